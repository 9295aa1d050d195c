/* test_journal.c — admd's journal records and its watchdog during a model
 * load, with a real admd process.
 *
 * Journal: in a private mount namespace (unshare; a user namespace when
 * plain root is not allowed) a tmpfs on /run holds a datagram socket at
 * /run/systemd/journal/socket, where sd_journal_sendv sends.  admd runs
 * with stderr on a file and JOURNAL_STREAM naming that file, as systemd
 * does; a job that runs and a job whose model file is missing must give
 * records with MESSAGE_ID (started, done, failed), ADMD_JOB, ADMD_MODEL and
 * PRIORITY, and nothing of them on stderr.
 *
 * Watchdog: admd runs under strace with the first read of the checkpoint
 * delayed 8 s (`strace -P FILE -e inject=read:delay_enter=...`), a fake
 * NOTIFY_SOCKET and WATCHDOG_USEC: no WATCHDOG=1 may come while the read
 * is stuck (a timer thread pinging through the load would hide a hung
 * load from WatchdogSec), and pings resume once it advances. */
#include "check.h"
#include "lib_notify.h"
#include "spool.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_MSGS 4096
static char *msgs[MAX_MSGS];
static double when[MAX_MSGS];
static int n_msgs;
static char dir[256], admd[512];

static void clear_msgs(void) {
    for (int i = 0; i < n_msgs; i++) free(msgs[i]);
    n_msgs = 0;
}

/* A message holding every one of the n fields (lines "KEY=value"), or -1. */
static int find_all(const char *const *fields, int n) {
    for (int i = 0; i < n_msgs; i++) {
        int ok = 1;
        for (int k = 0; k < n && ok; k++) {
            char want[512];
            snprintf(want, sizeof want, "\n%s\n", fields[k]);
            char body[8192];
            snprintf(body, sizeof body, "\n%s\n", msgs[i]);
            ok = strstr(body, want) != NULL;
        }
        if (ok) return i;
    }
    return -1;
}

/* Datagrams on fd until pid exits (or 300 s), with arrival times. */
static int collect(int fd, pid_t pid) {
    int status = 0, exited = 0;
    double end = adm_now() + 300;
    while (adm_now() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) > 0) {
            char buf[8192];
            ssize_t len = recv(fd, buf, sizeof buf - 1, 0);
            if (len > 0 && n_msgs < MAX_MSGS) {
                buf[len] = 0;
                if (len > 0 && buf[len - 1] == '\n') buf[len - 1] = 0;
                when[n_msgs] = adm_now();
                msgs[n_msgs++] = strdup(buf);
            }
            continue;
        }
        if (exited) break;
        if (waitpid(pid, &status, WNOHANG) == pid) exited = 1;
    }
    if (!exited) { kill(pid, SIGKILL); waitpid(pid, &status, 0); return -1; }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int bind_dgram(const char *path) {
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) { close(fd); return -1; }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { close(fd); return -1; }
    int big = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    return fd;
}

/* A spool: model a0 (unet_a), model gone (a missing file); job 1 on a0
 * (one image, `steps` steps), job 2 on gone when two_jobs. */
static void make_spool(const char *db, const char *steps, int two_jobs) {
    char ref[512];
    adm_spool *s;
    REQUIRE(adm_spool_open(db, ADM_SPOOL_CREATE | ADM_SPOOL_MIGRATE, &s) == 0, "open: %s", adm_last_error());
    adm_spool_model m;
    adm_spool_model_init(&m);
    snprintf(m.name, sizeof m.name, "a0");
    REQUIRE(realpath(test_path(ref, sizeof ref, "reference/unet_a/model.pt"), m.unet_path), "unet_a");
    REQUIRE(realpath(test_path(ref, sizeof ref, "reference/unet_a/config.txt"), m.unet_config), "config");
    REQUIRE(adm_spool_model_add(s, &m, 0) == 0, "model: %s", adm_last_error());
    snprintf(m.name, sizeof m.name, "gone");
    snprintf(m.unet_path, sizeof m.unet_path, "%s/no-such-model.pt", dir);
    REQUIRE(adm_spool_model_add(s, &m, 0) == 0, "model: %s", adm_last_error());
    adm_spool_request r;
    adm_spool_request_init(&r);
    snprintf(r.model, sizeof r.model, "a0");
    snprintf(r.respacing, sizeof r.respacing, "%s", steps);
    REQUIRE(adm_spool_submit(s, &r, NULL) == 0, "submit: %s", adm_last_error());
    if (two_jobs) {
        snprintf(r.model, sizeof r.model, "gone");
        REQUIRE(adm_spool_submit(s, &r, NULL) == 0, "submit: %s", adm_last_error());
    }
    adm_spool_close(s);
}

/* A private /run: as root, else as root of a new user namespace. */
static int private_run(void) {
    if (unshare(CLONE_NEWNS) != 0) {
        uid_t uid = getuid();
        gid_t gid = getgid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) return -1;
        char map[64];
        int f = open("/proc/self/setgroups", O_WRONLY);
        if (f >= 0) { (void)!write(f, "deny", 4); close(f); }
        snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
        f = open("/proc/self/uid_map", O_WRONLY);
        if (f < 0 || write(f, map, strlen(map)) < 0) return -1;
        close(f);
        snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
        f = open("/proc/self/gid_map", O_WRONLY);
        if (f < 0 || write(f, map, strlen(map)) < 0) return -1;
        close(f);
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return -1;
    if (mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") != 0) return -1;
    if (mkdir("/run/systemd", 0755) != 0 || mkdir("/run/systemd/journal", 0755) != 0) return -1;
    return 0;
}

static void test_journal_fields(void) {
    char db[512], err[512];
    snprintf(db, sizeof db, "%s/j/spool.db", dir);
    snprintf(err, sizeof err, "%s/j/stderr", dir);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/j", dir);
    REQUIRE(mkdir(sub, 0755) == 0, "mkdir");
    make_spool(db, "2", 1);
    /* the namespace in a child, so this test's own /run stays as it was */
    pid_t outer = fork();
    REQUIRE(outer >= 0, "fork");
    if (outer == 0) {
        if (private_run() != 0) { printf("  private /run: %s\n", strerror(errno)); _exit(3); }
        int fd = bind_dgram("/run/systemd/journal/socket");
        if (fd < 0) _exit(4);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        struct stat st;
        if (e < 0 || fstat(e, &st) != 0) _exit(5);
        pid_t pid = fork();
        if (pid == 0) {
            char js[64];
            snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
            setenv("JOURNAL_STREAM", js, 1);
            unsetenv("NOTIFY_SOCKET");
            dup2(e, 2);
            execl(admd, admd, "--db", db, "--drain", (char *)NULL);
            _exit(127);
        }
        int rc = collect(fd, pid);
        printf("  %d journal records, admd exit status %d\n", n_msgs, rc);
        const char *started[] = {"MESSAGE_ID=" ADM_MSG_JOB_STARTED, "ADMD_JOB=1", "ADMD_MODEL=a0", "PRIORITY=6",
                                 "SYSLOG_IDENTIFIER=admd"};
        const char *done[] = {"MESSAGE_ID=" ADM_MSG_JOB_DONE, "ADMD_JOB=1", "ADMD_MODEL=a0"};
        const char *failed[] = {"MESSAGE_ID=" ADM_MSG_JOB_FAILED, "ADMD_JOB=2", "ADMD_MODEL=gone", "PRIORITY=3"};
        int ok = rc == 0;
        if (find_all(started, 5) < 0) { printf("  no 'started' record with its fields\n"); ok = 0; }
        if (find_all(done, 3) < 0) { printf("  no 'done' record with its fields\n"); ok = 0; }
        if (find_all(failed, 4) < 0) { printf("  no 'failed' record with its fields\n"); ok = 0; }
        const char *ready[] = {"PRIORITY=6"};
        if (find_all(ready, 1) < 0) ok = 0;
        if (!ok) for (int i = 0; i < n_msgs && i < 20; i++) printf("  record %d: %s\n", i, msgs[i]);
        _exit(ok ? 0 : 1);
    }
    int status;
    waitpid(outer, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "journal records (exit %d)", WEXITSTATUS(status));
    /* nothing of the job went to stderr: the journal had it */
    uint8_t *text = NULL;
    size_t len = 0;
    REQUIRE(adm_read_file(err, &text, &len) == 0, "%s", adm_last_error());
    CHECK(!strstr((char *)text, "job 1: started") && !strstr((char *)text, "job 2: failed"),
          "job records on stderr too: %s", (char *)text);
    free(text);
}

static void test_watchdog_hung_read(void) {
    char db[512], sock[512], model[600], ref[512];
    snprintf(db, sizeof db, "%s/w/spool.db", dir);
    snprintf(sock, sizeof sock, "%s/w/notify.sock", dir);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/w", dir);
    REQUIRE(mkdir(sub, 0755) == 0, "mkdir");
    make_spool(db, "100", 0);
    REQUIRE(realpath(test_path(ref, sizeof ref, "reference/unet_a/model.pt"), model), "unet_a");
    int fd = bind_dgram(sock);
    REQUIRE(fd >= 0, "socket: %s", strerror(errno));
    clear_msgs();
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork");
    if (pid == 0) {
        setenv("NOTIFY_SOCKET", sock, 1);
        setenv("WATCHDOG_USEC", "2000000", 1);
        unsetenv("WATCHDOG_PID");
        unsetenv("JOURNAL_STREAM");
        /* LeakSanitizer refuses to run under ptrace (strace): in the ASan
         * build the leak check at exit would fail admd, not the watchdog */
        char asan[1024];
        const char *prev = getenv("ASAN_OPTIONS");
        snprintf(asan, sizeof asan, "%s%sdetect_leaks=0", prev ? prev : "", prev && *prev ? ":" : "");
        setenv("ASAN_OPTIONS", asan, 1);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) { dup2(null, 1); dup2(null, 2); }
        /* the first read of the checkpoint sleeps 8 s before it runs */
        execlp("strace", "strace", "-f", "-qq", "-o", "/dev/null", "-P", model, "-e", "trace=read",
               "-e", "inject=read:delay_enter=8000000:when=1", admd, "--db", db, "--drain", "--progress-interval", "0",
               (char *)NULL);
        _exit(127);
    }
    int rc = collect(fd, pid);
    close(fd);
    CHECK(rc == 0, "admd under strace: exit status %d", rc);
    int load = -1, after = -1;
    for (int i = 0; i < n_msgs; i++) {
        if (load < 0 && strstr(msgs[i], "STATUS=job 1: loading model a0")) load = i;
        if (load > 0 && i > load && strstr(msgs[i], "STATUS=") && !strstr(msgs[i], "STATUS=loading")) { after = i; break; }
    }
    if (load < 0 || after <= load) for (int i = 0; i < n_msgs; i++) printf("  message %d: %s\n", i, msgs[i]);
    REQUIRE(load >= 0 && after > load, "no load status, then steps (%d messages)", n_msgs);
    /* the longest silence of the watchdog between the load's start and the first step */
    double last = when[load], gap = 0;
    int pings_after = 0;
    for (int i = load; i <= after; i++)
        if (strstr(msgs[i], "WATCHDOG=1")) { if (when[i] - last > gap) gap = when[i] - last; last = when[i]; }
    if (when[after] - last > gap) gap = when[after] - last;
    for (int i = after; i < n_msgs; i++) pings_after += strstr(msgs[i], "WATCHDOG=1") != NULL;
    printf("  longest watchdog silence during the stuck load: %.1f s; %d pings after it\n", gap, pings_after);
    CHECK(gap >= 7.0, "pings went on while the read was stuck (longest silence %.1f s)", gap);
    CHECK(pings_after >= 1, "no watchdog pings once the load went on");
    clear_msgs();
}

int main(void) {
    const char *build = getenv("ADM_BUILD");
    snprintf(admd, sizeof admd, "%s/admd", build && *build ? build : "build");
    if (access(admd, X_OK) != 0) { printf("FAIL journal: %s not built\n", admd); return 1; }
    char *abs = realpath(admd, NULL);
    if (abs) { snprintf(admd, sizeof admd, "%s", abs); free(abs); }
    snprintf(dir, sizeof dir, "/tmp/admd-test-journal-XXXXXX");
    if (!mkdtemp(dir)) { printf("FAIL mkdtemp\n"); return 1; }
    RUN(test_journal_fields);
    RUN(test_watchdog_hung_read);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) printf("  (could not remove %s)\n", dir);
    CHECK_EXIT();
}
