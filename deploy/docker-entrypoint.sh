#!/bin/sh
# Reads the secrets the application takes from the environment out of compose secret files
# (VAR_FILE=/run/secrets/...), so no secret is ever written in docker-compose.yml or an env
# file. Only these names are read; a named file that is missing stops the container.
set -eu
for name in DATABASE_URL DEXIN_AUDIT_DATABASE_URL DEXIN_CLIENT_SECRET DEXIN_LEDGER_FUNDING_KEY; do
    file_var="${name}_FILE"
    eval "file=\${$file_var:-}"
    if [ -n "$file" ]; then
        if [ ! -r "$file" ]; then
            echo "entrypoint: $file_var=$file is not readable" >&2
            exit 1
        fi
        eval "export $name=\"\$(cat \"\$file\")\""
        unset "$file_var"
    fi
done
exec "$@"
