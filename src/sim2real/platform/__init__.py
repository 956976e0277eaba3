"""The benchmark platform: researchers submit policy servers (never code), stations of the
right kind lease the submission's jobs and run the protocol's trials, and the leaderboard
shows the results with Wilson intervals and Barnard's test between neighbours.

Rooms inside: `db/` (tables, migrations, the engine), `auth` (hashed scoped tokens),
`service` (every operation, one transaction each), `queue` (scheduling: FIFO per station kind,
quotas, leases, the reason a job waits), `endpoint` (the submitted server's liveness and
metadata), `api` (the JSON API), `pages` (server-rendered pages), `client` + `station` (the
station's side)."""
