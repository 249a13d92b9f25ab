/* mailbox.c - reading mbox files and Maildirs */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ikasq/mailbox.h"
#include "ikasq/util.h"

struct mailbox {
	char *path;
	/* mbox */
	const char *map;
	size_t size, pos;
	size_t dropped;		/* pages before this are given back */
	long count;
	struct strbuf unescaped;
	/* Maildir */
	char **files;
	size_t nfiles, next;
	struct strbuf content;
	char *where;
};

int
mailbox_open_mbox(const char *path, struct mailbox **out,
		  struct ikasq_err *err)
{
	struct mailbox *mb;
	struct stat st;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno == ENOENT ? IKASQ_EDATA : IKASQ_EIO,
		    "cannot open mbox '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, IKASQ_EDATA, "'%s' is not an mbox file",
		    path);
	}
	mb = xcalloc(1, sizeof(*mb));
	mb->path = xstrdup(path);
	mb->size = (size_t)st.st_size;
	if (mb->size > 0) {
		mb->map = mmap(NULL, mb->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (mb->map == MAP_FAILED) {
			err_set(err, IKASQ_EIO, "cannot map '%s': %s", path,
			    strerror(errno));
			close(fd);
			free(mb->path);
			free(mb);
			return IKASQ_EIO;
		}
		madvise((void *)mb->map, mb->size, MADV_SEQUENTIAL);
	}
	close(fd);
	if (mb->size > 0 && (mb->size < 5 || memcmp(mb->map, "From ", 5) != 0)) {
		mailbox_close(mb);
		return err_set(err, IKASQ_EDATA, "'%s' is not an mbox file: it "
		    "does not start with a \"From \" line", path);
	}
	sb_init(&mb->unescaped);
	*out = mb;
	return IKASQ_OK;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
mailbox_open_maildir(const char *dir, struct mailbox **out,
		     struct ikasq_err *err)
{
	static const char *const subdirs[] = { "cur", "new" };
	struct mailbox *mb;
	struct dirent *de;
	size_t i, alloc = 0;
	DIR *d;

	*out = NULL;
	mb = xcalloc(1, sizeof(*mb));
	mb->path = xstrdup(dir);
	for (i = 0; i < ARRAY_SIZE(subdirs); i++) {
		char *sub = xasprintf("%s/%s", dir, subdirs[i]);

		d = opendir(sub);
		if (d == NULL) {
			err_set(err, IKASQ_EDATA, "'%s' is not a Maildir: "
			    "cannot open '%s': %s", dir, sub, strerror(errno));
			free(sub);
			mailbox_close(mb);
			return IKASQ_EDATA;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (mb->nfiles == alloc) {
				alloc = alloc ? alloc * 2 : 256;
				mb->files = xrealloc(mb->files,
				    alloc * sizeof(char *));
			}
			mb->files[mb->nfiles++] = xasprintf("%s/%s", sub,
			    de->d_name);
		}
		closedir(d);
		free(sub);
	}
	qsort(mb->files, mb->nfiles, sizeof(char *), by_name);
	sb_init(&mb->content);
	*out = mb;
	return IKASQ_OK;
}

/* Start of the next "From " separator line at or after pos: a line that
 * begins with "From " at the start of the file or after an empty line. */
static size_t
next_separator(const struct mailbox *mb, size_t pos)
{
	const char *p = mb->map + pos, *end = mb->map + mb->size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL)
			break;
		if (end - nl > 6 && memcmp(nl + 1, "From ", 5) == 0 &&
		    (nl == mb->map || nl[-1] == '\n' ||
		    (nl - 1 > mb->map && nl[-1] == '\r' && nl[-2] == '\n')))
			return (size_t)(nl + 1 - mb->map);
		p = nl + 1;
	}
	return mb->size;
}

static int
next_mbox(struct mailbox *mb, const char **raw, size_t *len,
	  const char **where)
{
	const char *start, *end, *p, *nl;
	size_t sep;
	bool escaped = false;

	if (mb->pos >= mb->size)
		return 0;
	/* give back the pages of messages already handed out, so that the
	 * resident size stays flat however large the mbox is */
	if (mb->pos - mb->dropped > (8u << 20)) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		size_t upto = mb->pos / page * page;

		madvise((char *)mb->map + mb->dropped, upto - mb->dropped,
		    MADV_DONTNEED);
		mb->dropped = upto;
	}
	/* skip the "From " line itself */
	nl = memchr(mb->map + mb->pos, '\n', mb->size - mb->pos);
	start = nl ? nl + 1 : mb->map + mb->size;
	sep = next_separator(mb, (size_t)(start - mb->map) > 0 ?
	    (size_t)(start - mb->map) - 1 : 0);
	end = mb->map + sep;
	mb->pos = sep;
	mb->count++;
	/* the blank line before the next separator (or the end of the file)
	 * belongs to the mbox, not to the message */
	if (sep < mb->size && end > start && end[-1] == '\n')
		end--;
	else if (sep == mb->size && end - start >= 2 && end[-1] == '\n' &&
	    (end[-2] == '\n' || (end[-2] == '\r' && end - start >= 3 &&
	    end[-3] == '\n')))
		end--;
	if (end > start && end[-1] == '\r')
		end--;
	/* mboxrd: ">From " and ">>From " lose one '>' */
	for (p = start; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (*p == '>') {
			const char *q = p;

			while (q < nl && *q == '>')
				q++;
			if (nl - q >= 5 && memcmp(q, "From ", 5) == 0) {
				escaped = true;
				break;
			}
		}
	}
	if (escaped) {
		sb_reset(&mb->unescaped);
		for (p = start; p < end; p = nl + 1) {
			const char *q = p;

			nl = memchr(p, '\n', (size_t)(end - p));
			if (nl == NULL)
				nl = end - 1;
			while (q <= nl && *q == '>')
				q++;
			if (q > p && nl - q >= 4 && memcmp(q, "From ", 5) == 0)
				p++;
			sb_add(&mb->unescaped, p, (size_t)(nl - p) + 1);
		}
		*raw = mb->unescaped.buf;
		*len = mb->unescaped.len;
	} else {
		*raw = start;
		*len = (size_t)(end - start);
	}
	free(mb->where);
	mb->where = xasprintf("'%s' message %ld", mb->path, mb->count);
	*where = mb->where;
	return 1;
}

static int
next_maildir(struct mailbox *mb, const char **raw, size_t *len,
	     const char **where, struct ikasq_err *err)
{
	const char *file;

	if (mb->next >= mb->nfiles)
		return 0;
	file = mb->files[mb->next++];
	free(mb->where);
	mb->where = xasprintf("'%s'", file);
	*where = mb->where;
	sb_reset(&mb->content);
	if (!read_file(file, &mb->content)) {
		err_set(err, IKASQ_EIO, "cannot read '%s': %s", file,
		    strerror(errno));
		return -1;
	}
	*raw = mb->content.buf;
	*len = mb->content.len;
	return 1;
}

int
mailbox_next(struct mailbox *mb, const char **raw, size_t *len,
	     const char **where, struct ikasq_err *err)
{
	if (mb->files != NULL || mb->content.buf != NULL)
		return next_maildir(mb, raw, len, where, err);
	return next_mbox(mb, raw, len, where);
}

double
mailbox_progress(const struct mailbox *mb)
{
	if (mb->files != NULL)
		return mb->nfiles ? (double)mb->next / (double)mb->nfiles : 1;
	return mb->size ? (double)mb->pos / (double)mb->size : 1;
}

void
mailbox_close(struct mailbox *mb)
{
	size_t i;

	if (mb == NULL)
		return;
	if (mb->map != NULL && mb->map != MAP_FAILED)
		munmap((void *)mb->map, mb->size);
	for (i = 0; i < mb->nfiles; i++)
		free(mb->files[i]);
	free(mb->files);
	sb_release(&mb->unescaped);
	sb_release(&mb->content);
	free(mb->where);
	free(mb->path);
	free(mb);
}
