/* sluice test FILE: run the `tests:` section of a pipeline file. */
#include <stdio.h>

#include "cli.h"
#include "node.h"
#include "pipetest.h"

static const char usage_test[] =
    "Usage: sluice test FILE [--plugin-path DIRS]\n"
    "\n"
    "Runs the tests in FILE's `tests:` section: each feeds event bodies to one enricher\n"
    "of the pipeline and compares what comes out. Nothing else is started.\n"
    "\n"
    "  tests:\n"
    "    - name: product view is named\n"
    "      component: named            # an enricher of this file\n"
    "      input:  [ {productId: \"42\"} ] # event bodies, in order\n"
    "      expect: [ {productName: Blue mug} ]  # output bodies: the fields that must match\n"
    "      expect_count: 1             # optional: number of output events\n"
    "\n"
    "Unquoted 42, true, null, 1.5 are typed; quote them to mean strings. A field whose\n"
    "expected value is ~absent must be missing. Failures show each differing field and\n"
    "the whole output. Exit 0 when every test passed, 1 otherwise (or when FILE is invalid\n"
    "or has no tests).\n";

int cli_test(const cli *c)
{
    if (c->help)
        return printf("%s", usage_test), 0;
    if (c->nargs != 1)
        return cli_usage_error(usage_test, "%s", "test needs exactly one FILE");
    sl_pipeline_spec spec;
    sl_engine *eng;
    if (cli_prepare(c, &spec, &eng) < 0)
        return SL_EXIT_INVALID;
    int rc = SL_EXIT_INVALID;
    if (sl_node_len(sl_node_get(spec.root, "tests")) == 0) {
        fprintf(stderr, "%s: no tests (add a `tests:` section; see sluice test --help)\n",
                c->args[0]);
    } else {
        sl_buf out = {0};
        sl_pipetest_result res;
        if (sl_pipetest_run(&spec, eng, &out, &res) < 0)
            fprintf(stderr, "sluice: out of memory\n");
        else
            rc = res.failed ? SL_EXIT_INVALID : 0;
        if (out.len)
            fwrite(out.data, 1, out.len, stdout);
        sl_buf_free(&out);
    }
    sl_engine_destroy(eng);
    sl_config_free(&spec);
    return rc;
}
