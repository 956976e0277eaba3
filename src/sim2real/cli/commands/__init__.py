"""One module per sub-command; each defines `register(app: typer.Typer) -> None`."""
