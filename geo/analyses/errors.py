class AnalysisError(Exception):
    """An analysis cannot run on this data as asked; the message says why, for the user."""


class AnalysisCancelled(Exception):
    """The run was cancelled while it ran."""
