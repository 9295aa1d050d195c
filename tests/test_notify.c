/* test_notify.c — admd's sd_notify messages, checked against a fake
 * NOTIFY_SOCKET: a datagram socket this test listens on while it runs
 * `admd --drain` on a spool with one small job (WATCHDOG_USEC set, as
 * systemd would).  Expected, in order: EXTEND_TIMEOUT_USEC (kernel
 * compilation), READY=1 with MAINPID, STATUS lines naming the job and its
 * steps, WATCHDOG=1 pings, STOPPING=1. */
#include "check.h"
#include "spool.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_MSGS 4096
static char *msgs[MAX_MSGS];
static int n_msgs;
static char dir[256];

/* Index of the first message containing s at or after from, or -1. */
static int find(const char *s, int from) {
    for (int i = from < 0 ? 0 : from; i < n_msgs; i++) if (strstr(msgs[i], s)) return i;
    return -1;
}
static int count(const char *s) {
    int n = 0;
    for (int i = 0; i < n_msgs; i++) if (strstr(msgs[i], s)) n++;
    return n;
}

static void test_notify_messages(void) {
    char db[512], sock_path[512], admd[512], ref[512];
    snprintf(db, sizeof db, "%s/spool.db", dir);
    snprintf(sock_path, sizeof sock_path, "%s/notify.sock", dir);
    const char *build = getenv("ADM_BUILD");
    snprintf(admd, sizeof admd, "%s/admd", build && *build ? build : "build");
    REQUIRE(access(admd, X_OK) == 0, "%s not built", admd);

    /* A spool with one job: 1 image, 6 steps, model without classifier. */
    adm_spool *s;
    REQUIRE(adm_spool_open(db, ADM_SPOOL_CREATE | ADM_SPOOL_MIGRATE, &s) == 0, "open: %s", adm_last_error());
    adm_spool_model m;
    adm_spool_model_init(&m);
    snprintf(m.name, sizeof m.name, "a0");
    realpath(test_path(ref, sizeof ref, "reference/unet_a/model.pt"), m.unet_path);
    realpath(test_path(ref, sizeof ref, "reference/unet_a/config.txt"), m.unet_config);
    REQUIRE(adm_spool_model_add(s, &m, 0) == 0, "model: %s", adm_last_error());
    adm_spool_request r;
    adm_spool_request_init(&r);
    snprintf(r.model, sizeof r.model, "a0");
    snprintf(r.respacing, sizeof r.respacing, "6");
    REQUIRE(adm_spool_submit(s, &r, NULL) == 0, "submit: %s", adm_last_error());
    adm_spool_close(s);

    /* The fake service manager's socket. */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    REQUIRE(strlen(sock_path) < sizeof addr.sun_path, "socket path too long");
    memcpy(addr.sun_path, sock_path, strlen(sock_path) + 1);
    REQUIRE(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0, "bind: %s", strerror(errno));

    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork");
    if (pid == 0) {
        char wpid[32];
        snprintf(wpid, sizeof wpid, "%ld", (long)getpid());
        setenv("NOTIFY_SOCKET", sock_path, 1);
        setenv("WATCHDOG_USEC", "2000000", 1);
        setenv("WATCHDOG_PID", wpid, 1);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 2);
        execl(admd, admd, "--db", db, "--drain", "--progress-interval", "0", (char *)NULL);
        _exit(127);
    }
    /* Collect datagrams until admd exits (and the socket is drained). */
    int status = 0, exited = 0;
    double end = adm_now() + 300;
    while (adm_now() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, 100);
        if (rc > 0) {
            char buf[4096];
            ssize_t len = recv(fd, buf, sizeof buf - 1, 0);
            if (len > 0 && n_msgs < MAX_MSGS) { buf[len] = 0; msgs[n_msgs++] = strdup(buf); }
            continue;
        }
        if (exited) break;
        if (waitpid(pid, &status, WNOHANG) == pid) exited = 1;
    }
    if (!exited) { kill(pid, SIGKILL); waitpid(pid, &status, 0); }
    close(fd);
    CHECK(exited && WIFEXITED(status) && WEXITSTATUS(status) == 0, "admd exit status %d", WEXITSTATUS(status));
    printf("  %d notify messages\n", n_msgs);

    char mainpid[64];
    snprintf(mainpid, sizeof mainpid, "MAINPID=%ld", (long)pid);
    int extend = find("EXTEND_TIMEOUT_USEC=", 0), ready = find("READY=1", 0);
    int job = find("STATUS=job 1", 0), step = find("STATUS=job 1: step", 0), stopping = find("STOPPING=1", 0);
    CHECK(extend >= 0, "no EXTEND_TIMEOUT_USEC while compiling");
    CHECK(ready >= 0, "no READY=1");
    CHECK(ready >= 0 && strstr(msgs[ready], mainpid), "READY without %s", mainpid);
    CHECK(extend < ready, "EXTEND_TIMEOUT_USEC (%d) should come before READY (%d)", extend, ready);
    CHECK(job > ready, "no STATUS naming job 1 after READY");
    CHECK(step > ready, "no STATUS with the job's step");
    CHECK(count("WATCHDOG=1") >= 2, "only %d watchdog pings", count("WATCHDOG=1"));
    CHECK(stopping > job, "no STOPPING=1 at the end");
    CHECK(find("STATUS=idle", job) > job, "no STATUS=idle after the job");
    CHECK(count("READY=1") == 1, "READY sent %d times", count("READY=1"));
    for (int i = 0; i < n_msgs; i++) free(msgs[i]);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/admd-test-notify-XXXXXX");
    if (!mkdtemp(dir)) { printf("FAIL mkdtemp\n"); return 1; }
    RUN(test_notify_messages);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("  (could not remove %s)\n", dir);
    CHECK_EXIT();
}
