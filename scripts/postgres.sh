#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 with a database for the tests:
# starts the machine's cluster if it is stopped, installs Debian's server if there is none.
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { as_root su postgres -c "$1"; }

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
    echo "安装 PostgreSQL 服务器（数据库测试需要）" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fresh=yes
  fi
  version=$(ls /etc/postgresql | sort -V | tail -1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  if [ "${fresh:-no}" = yes ]; then
    # A server this script installed: give the tests a known password over TCP.
    as_postgres "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\""
  fi
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL 未能启动" >&2; exit 1; }
export PGPASSWORD=postgres
if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='dangxiao_test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE dangxiao_test"
fi
