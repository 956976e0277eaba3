"""The real-world evaluation protocol: trial plans from presets (`plan`, `preset`), placement
sheets (`sheet`), the trial database (`db`), the operator console (`console`), the real-world
tables and statistics (`report`, `sequential`, `publish`). Plans, records and reports work
without a robot; the console's Start button drives one through `sim2real.robot`."""
