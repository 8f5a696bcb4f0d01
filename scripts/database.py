"""Database chores for the set-up scripts, reading DATABASE_URL as the settings do.

database.py create        create the database and the postgis extension if missing
database.py server-major  print the server's PostgreSQL major version
database.py is-local      exit 0 if the server runs on this machine
"""

import os
import sys

import environ
import psycopg2
from psycopg2 import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/armsmonitor"


def connect(config: dict, dbname: str):
    return psycopg2.connect(
        dbname=dbname,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
    )


def main(command: str) -> int:
    config = environ.Env.db_url_config(os.environ.get("DATABASE_URL", DEFAULT_URL))
    if command == "is-local":
        return 0 if config["HOST"] in ("", "localhost", "127.0.0.1", "::1") else 1
    maintenance = connect(config, "postgres")
    maintenance.autocommit = True
    with maintenance.cursor() as cursor:
        if command == "server-major":
            cursor.execute("SHOW server_version_num")
            print(int(cursor.fetchone()[0]) // 10000)
            return 0
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            print(f"==> Creating the database {config['NAME']}")
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    maintenance.close()
    database = connect(config, config["NAME"])
    database.autocommit = True
    with database.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    database.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
