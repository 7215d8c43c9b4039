# cmake --install to a temporary prefix, then use only what was installed:
# the binary finds libsluice and its plugins relative to itself, pkg-config
# builds an out-of-tree plugin against the installed headers and libsluice,
# and a pipeline runs it.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"
command -v pkg-config >/dev/null || fail "pkg-config missing (scripts/deps.sh installs it)"

cmake --install "$SL_BUILD" --prefix "$TMP/prefix" >"$TMP/install.log" 2>&1 \
    || { cat "$TMP/install.log"; fail "cmake --install failed"; }
P=$TMP/prefix
for f in bin/sluice include/sluice/plugin.h include/sluice/host.h include/sluice/event.h \
         include/sluice/json.h lib/sluice/plugins/sink_file.so lib/systemd/system/sluice@.service \
         lib/libsluice.so.2 \
         share/sluice/pipelines/nginx-to-oneentry.yaml share/doc/sluice/plugin-guide.md \
         share/doc/sluice/plugins/README.md share/doc/sluice/plugins/enricher_parse.md; do
    [ -e "$P/$f" ] || fail "$f not installed"
done
PC=$(find "$P" -name sluice.pc -print -quit)
[ -n "$PC" ] || fail "sluice.pc not installed"
PCDIR=$(dirname "$PC")
docdir=$(PKG_CONFIG_PATH=$PCDIR pkg-config --variable=docdir sluice)
[ -f "$docdir/plugin-guide.md" ] || fail "pkg-config's docdir '$docdir' has no plugin-guide.md"
ok "installed layout, with the plugin guide and reference where pkg-config's docdir says"

# libsluice is shared: the binary finds it through its RUNPATH, whatever the
# prefix; pkg-config hands plugins -lsluice and no msgpack.
readelf -d "$P/bin/sluice" | grep -E 'RUNPATH|RPATH' | grep -qF '$ORIGIN/../lib' \
    || { readelf -d "$P/bin/sluice" >&2; fail "sluice has no RUNPATH \$ORIGIN/../lib"; }
readelf -d "$P/lib/libsluice.so.2" | grep -q 'SONAME.*libsluice.so.2' || fail "libsluice's SONAME is not libsluice.so.2"
libs=$(PKG_CONFIG_PATH=$PCDIR pkg-config --libs sluice)
case " $libs " in *" -lsluice "*) ;; *) fail "pkg-config --libs sluice gives '$libs', no -lsluice" ;; esac
case "$libs $(PKG_CONFIG_PATH=$PCDIR pkg-config --cflags sluice)" in
    *msgpack*) fail "pkg-config sluice still drags msgpack in: $libs" ;;
esac
ok "libsluice.so.2 is installed, found by the binary's RUNPATH, and pkg-config links -lsluice"

# The installed binary must not need the build tree or SLUICE_PLUGIN_PATH.
unset SLUICE_PLUGIN_PATH
(cd / && "$P/bin/sluice" plugins list) >"$TMP/list" || fail "plugins list failed"
expect_in "$TMP/list" "$P/bin/../lib/sluice/plugins/sink_file.so"
ok "installed binary finds installed plugins"

mkdir -p "$TMP/myplugin"
cat >"$TMP/myplugin/upper.c" <<'C'
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sluice/host.h>

/* enricher upper: upper-cases the string field named by `field`. */
typedef struct { const char *field; } upper;

static int init(sl_ctx *ctx, const sl_host *h, void **st, char *err, size_t n)
{
    upper *u = malloc(sizeof *u);
    if (!u)
        return SL_ERR;
    u->field = h->opt_str(ctx, "field");
    *st = u;
    return SL_OK;
}

/* Copy the event without the field, then add it back upper-cased. */
static int process(void *st, const sl_batch *in, sl_builder *out, char *err, size_t n)
{
    upper *u = st;
    sl_edit drop = {.key = u->field, .key_len = strlen(u->field), .op = SL_EDIT_REMOVE};
    sl_batch_iter it;
    sl_event ev;
    sl_value v;
    sl_batch_iter_init(&it, in);
    while (sl_batch_next(&it, &ev) == 1) {
        if (sl_map_gets(&ev.body, u->field, &v) != 1 || v.type != SL_STR) {
            sl_bb_append_event(out, &ev);
            continue;
        }
        char *s = strndup(v.v.s.ptr, v.v.s.len);
        for (char *c = s; c && *c; c++)
            *c = (char)toupper((unsigned char)*c);
        sl_bb_copy_event(out, &ev, &drop, 1, 1);
        sl_bb_cstr(out, u->field);
        sl_bb_str(out, s ? s : "", s ? v.v.s.len : 0);
        free(s);
        if (sl_bb_end(out) != 0)
            return SL_ERR;
    }
    return SL_OK;
}

static void destroy(void *st) { free(st); }

static const sl_option opts[] = {
    {"field", SL_OPT_STRING, "message", 0, "field to upper-case", NULL, NULL, NULL,
     SL_OPT_F_NONEMPTY},
    {0},
};

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_ENRICHER, "upper", "0.1.0"),
    .description = "Upper-cases one string field.",
    .options = opts, .init = init, .process = process, .destroy = destroy,
};
C
export PKG_CONFIG_PATH=$PCDIR
# An ASan build installs an instrumented libsluice.so: link its runtime too.
SAN=""
grep -q '^SLUICE_SANITIZE:BOOL=ON' "$SL_BUILD/CMakeCache.txt" && SAN="-fsanitize=address,undefined"
# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -fPIC -shared \
   -fvisibility=hidden -Wl,-z,defs -o "$TMP/myplugin/enricher_upper.so" "$TMP/myplugin/upper.c" \
   $(pkg-config --cflags --libs sluice) $SAN 2>"$TMP/cc.log" || { cat "$TMP/cc.log"; fail "out-of-tree build failed"; }
ok "out-of-tree plugin builds with pkg-config sluice only (-z defs: every symbol resolved)"

cat >"$TMP/p.yaml" <<YAML
service: { state_dir: $TMP/state }
sources: { gen: { plugin: generate, count: 3, message: hello } }
enrichers: { up: { plugin: upper, inputs: [gen] } }
sinks: { out: { plugin: stdout, inputs: [up], time_key: "" } }
YAML
"$P/bin/sluice" run "$TMP/p.yaml" --plugin-path "$TMP/myplugin" >"$TMP/out" 2>"$TMP/err" \
    || { cat "$TMP/err"; fail "pipeline with the out-of-tree plugin failed"; }
[ "$(grep -c '"message":"HELLO"' "$TMP/out")" -eq 3 ] || { cat "$TMP/out"; fail "plugin output wrong"; }
ok "installed sluice runs the out-of-tree plugin"
finish
