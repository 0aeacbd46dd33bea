from etl.cli import app
from sesizari.cli import run

run(app, "python -m etl")
