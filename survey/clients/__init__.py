"""Client companies: the boundary around each client's customers, campaigns and results.

`survey.clients.scope` is the one place where queries are limited to the current client; the
models are in `survey.clients.models` (re-exported by `survey.models`).
"""
