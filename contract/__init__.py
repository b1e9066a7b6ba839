"""The Temporal surface of the engine, below both workflows/ and activities/: the message
types each workflow, activity, query, signal and update takes and returns (`messages`), where
each workflow lives (`ids`: task queue, workflow ids in both directions), the stages a workflow
reports (`stages`) and the search attributes it sets (`search_attributes`).

It imports only cob/ (the rules' own types), so the workflows, the activities, the worker and
the CLI can all stand on it without importing one another.
"""
