"""The Swift API front-end: TempAuth, accounts, containers (Satchel buckets) and objects."""
