"""The ground floor: building blocks any app may import, and nothing here imports an app.

- `gate`: the one normalising gate outside text passes before it reaches a model (rules §13);
- `fields`: encrypted model fields for secrets (robot tokens, signing secrets, AccessKeys);
- `relations`: `optional_key`, the link a row may lack (NULL, blank in forms);
- `console_texts`: the texts the console writes into rows, shown in the reader's language;
- `trigram`: PostgreSQL trigram indexes for the admin's searches;
- `client_ip`: the client address behind trusted proxies (sign-in throttling);
- `metrics`, `metrics_http`: Prometheus metrics and the worker's own /metrics endpoint;
- `processes`: stopping child processes by PID; `heap`: a long-running process's start-up
  objects frozen out of the garbage collector's walks.
"""
