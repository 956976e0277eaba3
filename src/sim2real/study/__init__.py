"""The study runner: a factor study (the paper's Tables 1-3 and Fig. 3) as one resumable graph
of cached steps (generate, train, grpo, evaluate), run locally or on Ray, with one report.

`config` reads and validates a study file, `graph` turns it into steps keyed by their inputs,
`store` keeps each step's outputs and commit record, `steps` runs one step by calling the
rooms below (data, train, evaluate), `execute` schedules them, `report` writes the tables.
"""
