/*
 * A QEMU TCG plugin that counts executed guest instructions exactly, for the firmware
 * example's cost measurements.
 *
 *   gcc -shared -fPIC -O2 -o icount.so icount.c
 *   qemu-system-arm … -icount shift=0 -plugin ./icount.so -kernel firmware.elf
 *
 * It prints to QEMU's log (stderr unless -D is given):
 *   ICOUNT SPAN <n>   for every pair of `sev` instructions the guest executes: the number of
 *                     instructions from the first (inclusive) to the second (exclusive).
 *                     The firmware brackets each measured operation with `sev` (a hint that
 *                     does nothing on a single core, and that compilers never emit).
 *   ICOUNT TOTAL <n>  at exit: every instruction executed.
 *
 * Debian's QEMU ships no qemu-plugin.h, so the few API functions used are declared here
 * (plugin API version 2: QEMU 10.0 accepts it, QEMU 7.2 does not). One vCPU is expected.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
char *qemu_plugin_insn_disas(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 2;

/* Instructions of every block that has started, counted when it starts. */
static uint64_t executed;
/* Position (instructions before it) of the `sev` that opened the current span. */
static uint64_t span_start;
static int in_span;

static void out(const char *what, uint64_t n)
{
    char buf[64];
    snprintf(buf, sizeof buf, "ICOUNT %s %llu\n", what, (unsigned long long)n);
    qemu_plugin_outs(buf);
}

static void on_tb(unsigned int vcpu, void *n_insns)
{
    (void)vcpu;
    executed += (uintptr_t)n_insns;
}

/* userdata: instructions after this one in its block (already added by on_tb). */
static void on_sev(unsigned int vcpu, void *after)
{
    (void)vcpu;
    uint64_t position = executed - 1 - (uintptr_t)after;
    if (in_span) {
        out("SPAN", position - span_start);
        in_span = 0;
    } else {
        span_start = position;
        in_span = 1;
    }
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)n);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        char *text = qemu_plugin_insn_disas(insn);
        if (text != NULL && strncmp(text, "sev", 3) == 0) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_sev, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)(n - 1 - i));
        }
        free(text);
    }
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    (void)id;
    (void)p;
    out("TOTAL", executed);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id,
                                                               const qemu_info_t *info,
                                                               int argc, char **argv)
{
    (void)info;
    (void)argc;
    (void)argv;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
