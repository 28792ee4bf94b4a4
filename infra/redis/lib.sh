# Shared by infra/redis/start.sh and infra/redis-cluster/start.sh (source it; `log` must exist).
# Installs Debian's redis-server when it is missing and this is root on an apt system.
ensure_redis_server() {
  command -v redis-server >/dev/null && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing Debian's redis-server package"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null; }
  else
    log "ERROR: redis-server is not installed; run: sudo apt-get install -y redis-server"
    exit 1
  fi
}
