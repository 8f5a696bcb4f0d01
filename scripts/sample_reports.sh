#!/usr/bin/env bash
# Regenerate docs/sample-reports/: the PDF of each report template from the demo data, and
# PNGs of its first two pages (T-page1.png, T-page2.png), offline and reproducibly.
#
#   bash scripts/sample_reports.sh
#
# It works in a database of its own, dropped and made again on every run so that the same
# seed gives the same records: SAMPLES_DATABASE_URL, by default
# postgres://postgres@127.0.0.1:5432/armsmonitor_samples (its name must contain "samples":
# the script drops it). SAMPLES_INCIDENTS (default 10000) demo incidents, seed 2026.
# SAMPLES_VENV names a virtualenv to use as it is (another checkout's); without it, the
# project's .venv is set up as `make run` does. Report files go to .data/samples-media.
# At the end it prints the table of "Generation times of the samples" in docs/users/reports.md.
source "$(dirname "$0")/lib.sh"
trap stop_started_services EXIT

if [ -n "${SAMPLES_VENV:-}" ]; then
  VENV="$SAMPLES_VENV"
  PYTHON="$VENV/bin/python"
else
  ensure_python
fi
ensure_packages gdal-bin libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils
ensure_node_packages
# ensure_env_file narrows the umask for .env; the samples are committed files.
saved_umask="$(umask)"
ensure_env_file
umask "$saved_umask"
ensure_redis

export DATABASE_URL="${SAMPLES_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/armsmonitor_samples}"
unset DATABASE_OWNER_URL DATABASE_ADMIN_URL DATABASE_APP_ROLE
export MEDIA_ROOT="$DATA_DIR/samples-media"
INCIDENTS="${SAMPLES_INCIDENTS:-10000}"
OUT="$PROJECT_DIR/docs/sample-reports"
cd "$PROJECT_DIR"

say "Making the database again: ${DATABASE_URL##*/}"
"$PYTHON" - <<'EOF'
import os

import environ
import psycopg2
from psycopg2 import sql

config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
if "samples" not in config["NAME"]:
    raise SystemExit(f"Refusing to drop {config['NAME']}: the samples' database name must contain 'samples'.")
connection = psycopg2.connect(
    dbname="postgres", user=config["USER"], password=config["PASSWORD"] or None,
    host=config["HOST"] or None, port=config["PORT"] or None,
)
connection.autocommit = True
with connection.cursor() as cursor:
    cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(config["NAME"])))
connection.close()
EOF
"$PYTHON" scripts/database.py create
rm -rf "$MEDIA_ROOT"
mkdir -p "$MEDIA_ROOT" "$OUT"

say "Migrating, loading boundaries, regions and the gazetteer"
"$PYTHON" manage.py migrate --no-input -v0
"$PYTHON" manage.py load_boundaries
"$PYTHON" manage.py load_regions
"$PYTHON" manage.py load_gazetteer

say "Seeding $INCIDENTS demo incidents (seed 2026)"
seed_started=$SECONDS
"$PYTHON" manage.py seed_demo --incidents "$INCIDENTS" --seed 2026 \
  --login-file "$DATA_DIR/samples-login.txt"
say "Seeded in $((SECONDS - seed_started)) s"

# template, scope kind, scope, from, to, the scope and period as the table in docs/users/reports.md names them
SAMPLES=(
  "mission_monthly|mission|MINUSCA|2026-09-01|2026-09-30|MINUSCA, September 2026"
  "regional_overview|region|eccas|2025-10-01|2026-09-30|ECCAS, October 2025 – September 2026"
  "secretary_general|world|world|2025-01-01|2025-12-31|world, 2025"
  "sdg_16_4_2|country|CAF|2019-01-01|2025-12-31|Central African Republic, 2019–2025"
  "iafq|mission|MINUSCA|2025-01-01|2025-12-31|MINUSCA, 2025"
  "isacs_trace|mission|MINUSCA|2026-07-01|2026-09-30|MINUSCA, July–September 2026"
)
thousands() { sed -E ':a;s/^([0-9]+)([0-9]{3})/\1,\2/;ta' <<<"$1"; }
TABLE=()
for sample in "${SAMPLES[@]}"; do
  IFS='|' read -r template kind scope start end label <<<"$sample"
  say "Generating $template ($kind $scope, $start to $end)"
  line="$("$PYTHON" manage.py generate_report --user demo-admin --template "$template" \
    --scope-kind "$kind" --scope "$scope" --from "$start" --to "$end" --pdf "$OUT/$template.pdf")"
  echo "$line"
  rm -f "$OUT/$template"-page*.png
  pdftoppm -png -r 60 -f 1 -l 2 "$OUT/$template.pdf" "$OUT/$template-page"
  # pdftoppm numbers pages with as many digits as the document's last page needs.
  for page in 1 2; do
    for numbered in "$OUT/$template-page-$page.png" "$OUT/$template-page-0$page.png" \
      "$OUT/$template-page-00$page.png"; do
      if [ -f "$numbered" ]; then mv "$numbered" "$OUT/$template-page$page.png"; fi
    done
  done
  read_count="$(sed -E 's/.*: ([0-9]+) incidents,.*/\1/' <<<"$line")"
  seconds="$(sed -E 's/.* ([0-9.]+) s\.?.*$/\1/' <<<"$line")"
  size_kb="$(( ($(stat -c %s "$OUT/$template.pdf") + 512) / 1024 ))"
  TABLE+=("| \`$template\` | $label | $(thousands "$read_count") | $seconds s | $size_kb KB |")
done

say "Generation times (manage.py generate_report, in one process, $INCIDENTS demo incidents)"
echo "| template | scope and period | incidents read | generation | PDF |"
echo "|---|---|---|---|---|"
printf '%s\n' "${TABLE[@]}"
ls -l "$OUT"
