# Sourced by scripts/serve.sh and scripts/with-env.sh: export the settings of $ENV_FILE (default
# .env) that the environment does not set already (the environment wins).  Lines are NAME=value
# (an `export ` prefix is allowed); blank lines and lines starting with # are skipped; one pair of
# surrounding quotes is removed; nothing is evaluated (no $expansion, no commands).
ENV_FILE=${ENV_FILE:-.env}
if [ -f "$ENV_FILE" ]; then
    while IFS= read -r _jf_line || [ -n "$_jf_line" ]; do
        _jf_line=${_jf_line%$'\r'}
        case "$_jf_line" in ''|'#'*) continue ;; esac
        _jf_name=${_jf_line%%=*}
        _jf_value=${_jf_line#*=}
        _jf_name=${_jf_name#export }
        _jf_name=$(printf '%s' "$_jf_name" | tr -d '[:space:]')
        if [[ ! "$_jf_name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ || "$_jf_line" != *=* ]]; then
            echo "$ENV_FILE: not NAME=value: $_jf_line" >&2
            exit 2
        fi
        if [[ "$_jf_value" =~ ^\"(.*)\"$ || "$_jf_value" =~ ^\'(.*)\'$ ]]; then
            _jf_value=${BASH_REMATCH[1]}
        fi
        if [ -z "${!_jf_name+set}" ]; then
            export "$_jf_name=$_jf_value"
        fi
    done < "$ENV_FILE"
    unset _jf_line _jf_name _jf_value
fi
