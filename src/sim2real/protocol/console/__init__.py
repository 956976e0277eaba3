"""The operator console: a local web page that walks the operator through a campaign's trials
(setup, placement picture, Start on the robot, Success / Failure / Abort-and-redo), committing
every outcome to the trial database before the next trial is shown."""
