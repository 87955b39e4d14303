/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvbench's fio rows: fio itself, when installed, on the same file and the
 * same workloads as the host door, so that a reader can see the host
 * baseline is as strong as the tool people trust.  One fio process runs a
 * backend's workloads and repeats as back-to-back jobs (fio's start-up
 * costs most of a second, too much to pay per run); its
 * --output-format=json is read with the small parser below.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_blk.h"

extern char **environ;

/* ---- just enough JSON: find members and elements, skip the rest ---- */

static const char *ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

/* The first byte after the JSON value at (p), or NULL if it is malformed. */
static const char *skip_value(const char *p)
{
	int depth = 0;

	p = ws(p);
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1])
				p++;
		return *p ? p + 1 : NULL;
	}
	if (*p != '{' && *p != '[') {
		const char *s = p;

		while (*p && !strchr(",}] \n\t\r", *p))
			p++;
		return p > s ? p : NULL;
	}
	while (*p) {
		if (*p == '"') {
			p = skip_value(p);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/* The value of member (key) of the object at (p), or NULL. */
static const char *member(const char *p, const char *key)
{
	p = ws(p);
	if (*p++ != '{')
		return NULL;
	for (;;) {
		const char *k, *e;

		p = ws(p);
		if (*p != '"')
			return NULL;
		k = p + 1;
		e = skip_value(p);
		if (!e)
			return NULL;
		p = ws(e);
		if (*p++ != ':')
			return NULL;
		p = ws(p);
		if ((size_t)(e - 1 - k) == strlen(key) && !memcmp(k, key, strlen(key)))
			return p;
		p = skip_value(p);
		if (!p)
			return NULL;
		p = ws(p);
		if (*p++ != ',')
			return NULL;
	}
}

/* Element (i) of the array at (p), or NULL. */
static const char *element(const char *p, unsigned int i)
{
	p = ws(p);
	if (*p++ != '[')
		return NULL;
	for (unsigned int k = 0;; k++) {
		p = ws(p);
		if (*p == ']')
			return NULL;
		if (k == i)
			return p;
		p = skip_value(p);
		if (!p)
			return NULL;
		p = ws(p);
		if (*p++ != ',')
			return NULL;
	}
}

/* The number at (p); false if there is none. */
static bool number(const char *p, double *v)
{
	char *end;

	if (!p)
		return false;
	*v = strtod(p, &end);
	return end != p;
}

/* ---- running fio ---- */

/* (path) as fio's filename= wants it: a ':' separates files, so escape it. */
static void fio_filename(const char *path, char *buf, size_t n)
{
	size_t len = (size_t)snprintf(buf, n, "--filename=");

	for (; *path && len + 3 < n; path++) {
		if (*path == ':')
			buf[len++] = '\\';
		buf[len++] = *path;
	}
	buf[len] = 0;
}

/* Read all of (fd) into a NUL-terminated buffer, or NULL. */
static char *slurp(int fd)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	ssize_t got;

	if (!buf)
		return NULL;
	lseek(fd, 0, SEEK_SET);
	while ((got = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)got;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = 0;
	return buf;
}

static int temp_file(void)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char name[512];
	int fd;

	snprintf(name, sizeof(name), "%s/pvbench-fio-XXXXXX", dir);
	fd = mkstemp(name);
	if (fd >= 0)
		unlink(name);
	return fd;
}

/* Start fio with (argv), stdout into (out) and stderr into (err); its exit status, -1 = not started (errno). */
static int spawn_fio(char **argv, int out, int err)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r, status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", 0, 0);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r) {
		errno = r;
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Take job (i)'s figures from fio's JSON (js) into (r); false if they are not there. */
static bool parse_job(const char *js, unsigned int i, const struct workload *w, struct run *r)
{
	const char *job = element(member(js, "jobs"), i);
	const char *dir = job ? member(job, w->write ? "write" : "read") : NULL;
	double err = 1, ios = 0, ms = 0;

	if (!dir || !number(member(job, "error"), &err) || err != 0 || !number(member(dir, "total_ios"), &ios) ||
	    !number(member(dir, "runtime"), &ms) || ms <= 0)
		return false;
	r->requests = (unsigned long long)ios;
	r->seconds = ms / 1e3;
	return true;
}

int bench_fio_run(const char *prog, const char *path, const struct workload *const *w, unsigned int nw,
		  double seconds, unsigned int runs, struct run *r)
{
	enum { MAX_JOBS = 128, JOB_ARGS = 5 };
	static char opts[MAX_JOBS][3][32];
	char filename[4200], runtime[48];
	char *argv[16 + MAX_JOBS * JOB_ARGS];
	unsigned int njobs = nw * runs;
	int argc = 0, out, err, status, got = 0;
	char *js = NULL, *msg = NULL;

	if (njobs == 0 || njobs > MAX_JOBS) {
		fprintf(stderr, "pvbench: fio: %u jobs, at most %d\n", njobs, MAX_JOBS);
		return -1;
	}
	memset(r, 0, sizeof(*r) * njobs);
	fio_filename(path, filename, sizeof(filename));
	snprintf(runtime, sizeof(runtime), "--runtime=%lldms", (long long)(seconds * 1e3 + 0.5));
	argv[argc++] = (char *)(prog ? prog : "fio");
	/* for every job */
	argv[argc++] = "--output-format=json";
	argv[argc++] = "--eta=never";
	argv[argc++] = "--ioengine=io_uring";
	argv[argc++] = "--direct=1";
	argv[argc++] = filename;
	argv[argc++] = runtime;
	argv[argc++] = "--time_based";
	argv[argc++] = "--norandommap";
	argv[argc++] = "--randrepeat=0";
	argv[argc++] = "--stonewall"; /* the jobs run one after the other */
	/* job j: run j % runs of workload j / runs */
	for (unsigned int j = 0; j < njobs; j++) {
		const struct workload *wl = w[j / runs];

		snprintf(opts[j][0], sizeof(opts[j][0]), "--name=%s-qd%u-%u", wl->name, wl->qd, j % runs);
		snprintf(opts[j][1], sizeof(opts[j][1]), "--bs=%u", wl->bs);
		snprintf(opts[j][2], sizeof(opts[j][2]), "--iodepth=%u", wl->qd);
		argv[argc++] = opts[j][0];
		argv[argc++] = opts[j][1];
		argv[argc++] = opts[j][2];
		argv[argc++] = wl->write ? "--rw=write" : wl->random ? "--rw=randread" : "--rw=read";
		if (wl->flush)
			argv[argc++] = "--fdatasync=1";
	}
	argv[argc] = NULL;

	out = temp_file();
	err = temp_file();
	if (out < 0 || err < 0) {
		fprintf(stderr, "pvbench: fio: no temporary file: %s\n", strerror(errno));
		got = -1;
		goto done;
	}
	status = spawn_fio(argv, out, err);
	if (status < 0 && errno == ENOENT && !prog)
		goto done; /* not installed: no fio rows */
	if (status < 0) {
		fprintf(stderr, "pvbench: cannot run %s: %s\n", argv[0], strerror(errno));
		got = -1;
		goto done;
	}
	js = slurp(out);
	if (js) {
		char *start = strstr(js, "\n{");

		start = js[0] == '{' ? js : start ? start + 1 : js; /* any notes before the JSON */
		for (unsigned int j = 0; status == 0 && j < njobs; j++)
			got += parse_job(start, j, w[j / runs], &r[j]);
	}
	if (status != 0 || got != (int)njobs) {
		msg = slurp(err);
		if (msg)
			msg[strcspn(msg, "\n")] = 0;
		fprintf(stderr, "pvbench: %s failed (exit %d, %d of %u jobs measured): %s\n", argv[0], status, got,
			njobs, msg && *msg ? msg : "no figures in its output");
		got = -1;
	}
done:
	free(js);
	free(msg);
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	return got < 0 ? -1 : got > 0;
}
