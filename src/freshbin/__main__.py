"""`python -m freshbin`: the same CLI as the `freshbin` console script, without relying on PATH."""

from .main import program

if __name__ == "__main__":
    program.run()
