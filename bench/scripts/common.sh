# Helpers shared by the bench scripts; sourced, not run: `. "$(dirname "${BASH_SOURCE[0]}")/common.sh"`.

# conf_variant SOURCE FOLDER RUN_DIR NAME [KEY=VALUE...]: copies the node configs of conf/SOURCE into
# FOLDER with their data under RUN_DIR/<the source's directory name for each node>, cluster id
# loomkv-NAME, and the extra KEY=VALUE lines appended (e.g. engine=rocksdb).
conf_variant() {
  local source="$1" folder="$2" run_dir="$3" name="$4" f extra
  shift 4
  rm -rf "$folder" && mkdir -p "$folder"
  for f in conf/"$source"/node*.properties; do
    sed -e "s|^data-dir=run/$source/|data-dir=$run_dir/|" -e "s|^cluster-id=.*|cluster-id=loomkv-$name|" "$f" \
        > "$folder/$(basename "$f")"
    for extra in "$@"; do echo "$extra" >> "$folder/$(basename "$f")"; done
  done
}

# log_time_ms HH:MM:SS.mmm DAY_MS: the epoch milliseconds of a server log's time stamp, on the
# local day of DAY_MS (epoch milliseconds; the process start time, say).
log_time_ms() {
  python3 -c 'import sys,datetime
d=datetime.datetime.fromtimestamp(int(sys.argv[2])/1000)
h,m,s=sys.argv[1].split(":"); sec,ms=s.split(".")
t=d.replace(hour=int(h),minute=int(m),second=int(sec),microsecond=int(ms)*1000)
print(int(t.timestamp()*1000))' "$1" "$2"
}
