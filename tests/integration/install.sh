# cmake --install to a temporary prefix, then use only what was installed:
# the binary finds its plugins, pkg-config builds an out-of-tree plugin
# against the installed headers, and a pipeline runs it.
. "$(dirname "$0")/common.bash"
: "${SL_BUILD:?}"
command -v pkg-config >/dev/null || fail "pkg-config missing (scripts/deps.sh installs it)"

cmake --install "$SL_BUILD" --prefix "$TMP/prefix" >"$TMP/install.log" 2>&1 \
    || { cat "$TMP/install.log"; fail "cmake --install failed"; }
P=$TMP/prefix
for f in bin/sluice include/sluice/plugin.h include/sluice/host.h include/sluice/event.h \
         include/sluice/json.h lib/sluice/plugins/sink_file.so lib/systemd/system/sluice@.service \
         share/sluice/pipelines/nginx-to-oneentry.yaml share/doc/sluice/plugin-guide.md \
         share/doc/sluice/plugins/README.md share/doc/sluice/plugins/enricher_parse.md; do
    [ -e "$P/$f" ] || fail "$f not installed"
done
PCDIR=$(dirname "$(find "$P" -name sluice.pc | head -n 1)")
[ -n "$PCDIR" ] || fail "sluice.pc not installed"
docdir=$(PKG_CONFIG_PATH=$PCDIR pkg-config --variable=docdir sluice)
[ -f "$docdir/plugin-guide.md" ] || fail "pkg-config's docdir '$docdir' has no plugin-guide.md"
ok "installed layout, with the plugin guide and reference where pkg-config's docdir says"

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

static int process(void *st, const sl_batch *in, sl_batch_builder *out, char *err, size_t n)
{
    upper *u = st;
    sl_batch_iter it;
    sl_event ev;
    sl_batch_iter_init(&it, in);
    while (sl_batch_next(&it, &ev) == 1) {
        sl_bb_begin(out, ev.time_ns);
        sl_pack_value(&out->pk, &ev.meta);
        msgpack_pack_map(&out->pk, ev.body.v.n);
        sl_iter kv;
        sl_value k, v;
        sl_iter_init(&kv, &ev.body);
        while (sl_iter_next(&kv, &k, &v) == 1) {
            sl_pack_value(&out->pk, &k);
            if (v.type == SL_STR && sl_value_eq(&k, u->field)) {
                char *s = strndup(v.v.s.ptr, v.v.s.len);
                for (char *c = s; c && *c; c++)
                    *c = (char)toupper((unsigned char)*c);
                sl_pack_str(&out->pk, s ? s : "", s ? v.v.s.len : 0);
                free(s);
            } else {
                sl_pack_value(&out->pk, &v);
            }
        }
        sl_bb_end(out);
    }
    return SL_OK;
}

static void destroy(void *st) { free(st); }

static const sl_option opts[] = {
    {"field", SL_OPT_STRING, "message", 0, "field to upper-case", NULL},
    {0},
};

SL_EXPORT const sl_plugin sluice_plugin = {
    SL_PLUGIN_HEADER(SL_KIND_ENRICHER, "upper", "0.1.0"),
    .description = "Upper-cases one string field.",
    .options = opts, .init = init, .process = process, .destroy = destroy,
};
C
export PKG_CONFIG_PATH=$PCDIR
# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -fPIC -shared \
   -fvisibility=hidden -o "$TMP/myplugin/enricher_upper.so" "$TMP/myplugin/upper.c" \
   $(pkg-config --cflags --libs sluice) 2>"$TMP/cc.log" || { cat "$TMP/cc.log"; fail "out-of-tree build failed"; }
ok "out-of-tree plugin builds with pkg-config sluice only"

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
