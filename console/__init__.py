"""The billing team's HTTP API and console (`cob api`): the CLI's operations over HTTP, for
people signed in with a token, each allowed what their role allows (ledger/users.py)."""
