"""Data quality as Great Expectations suites: what each dataset promises, checked each run.

- ``completeness``: the optional columns the business accepts missing, and when each is due;
- ``profile``: each delivery day of an extract in numbers, with bounds from its own history;
- ``suites``: the extracts' expectation suites, built from the contract;
- ``outputs``, ``datasets``: the promised outputs' suites, and the column placing their rows;
- ``frames``: a suite's frame read from DuckDB, in the cheapest pandas form;
- ``gx_run``: the GX project (stores, Data Docs) and one suite run on a frame;
- ``verdict``: a run's result as a pass/fail per severity, failing expectations, bad days;
- ``scorecard``: ``quality.scorecard``, day × dataset × expectation, for analysts;
- ``dashboard``: ``reports/quality/index.html``, the page people open;
- ``validate``: what the wiring calls.
"""
