"""The publishing pipeline: notebook sources -> executed pages + claim records -> generated pages.

One concern per module:

* :mod:`~dltheory.pipeline.layout`: where things are (sources, pages, records, stamps, the claim catalogue);
* :mod:`~dltheory.pipeline.parameters`: a notebook's ``parameters`` cell and ``-p NAME VALUE`` overrides;
* :mod:`~dltheory.pipeline.runner`: executing one notebook in the portable kernel and publishing it atomically;
* :mod:`~dltheory.pipeline.records`: claim records, content hashes and staleness (Snakemake's stamps);
* :mod:`~dltheory.pipeline.pages`: the generated Markdown (status, report tables, provenance, code behind a page);
* :mod:`~dltheory.pipeline.verify`: re-executing claims and comparing their records, at the published seed or others.
"""


class PipelineError(Exception):
    """A pipeline failure with a one-line message (exit code 1)."""

    exit_code = 1


class BadInput(PipelineError):
    """Unknown notebook or parameter, or a value of the wrong type (exit code 2)."""

    exit_code = 2


class CellFailed(PipelineError):
    """A notebook cell raised (exit code 1)."""
