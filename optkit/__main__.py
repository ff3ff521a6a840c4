from optkit.cli import run

run()
