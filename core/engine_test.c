/* One enricher driven directly, for `sluice test`: see engine_test.h. */
#include "engine_test.h"

#include <stdio.h>

#include "engine_priv.h"
#include "graph.h"

static sl_comp *find(sl_engine *e, const char *name)
{
    long i = sl_graph_find(e->spec, name);
    return i < 0 ? NULL : &e->comps[i];
}

int sl_engine_test_kind(sl_engine *e, const char *name)
{
    sl_comp *c = find(e, name);
    return c ? (int)c->spec->kind : 0;
}

int sl_engine_test_init(sl_engine *e, const char *name, char *err, size_t errlen)
{
    sl_comp *c = find(e, name);
    if (!c || c->spec->kind != SL_KIND_ENRICHER) {
        snprintf(err, errlen, "'%s' is not an enricher of this pipeline", name);
        return -1;
    }
    if (c->inited)
        return 0;
    char perr[512] = "";
    if (c->plugin.p->init(&c->ctx, &sl_host_api, &c->state, perr, sizeof perr) != SL_OK) {
        snprintf(err, errlen, "enricher '%s' failed to start: %s", name,
                 perr[0] ? perr : "(no message)");
        return -1;
    }
    c->inited = 1;
    return 0;
}

int sl_engine_test_process(sl_engine *e, const char *name, const sl_batch *in,
                           sl_builder *out, char *err, size_t errlen)
{
    sl_comp *c = find(e, name);
    if (!c || !c->inited) {
        snprintf(err, errlen, "'%s' is not an initialised enricher", name);
        return SL_ERR;
    }
    pthread_mutex_lock(&c->emu);
    int rc = c->plugin.p->process(c->state, in, out, err, errlen);
    pthread_mutex_unlock(&c->emu);
    if (rc != SL_OK)
        return SL_ERR;
    const char *why = sl__bb_problem(out);
    if (why) {
        snprintf(err, errlen, "returned SL_OK but %s", why);
        return SL_ERR;
    }
    return SL_OK;
}
