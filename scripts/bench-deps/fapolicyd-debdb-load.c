/*
 * fapolicyd-debdb-load: builds fapolicyd's trust database from its Debian backend
 * (trust = debdb) the way the daemon's init_database() does, without the daemon.
 *
 * Why not run fapolicyd itself: the daemon builds its database and then marks the
 * watched filesystems with fanotify permission events; a benchmark must never leave
 * a permission listener on the host. This program compiles fapolicyd's own
 * database.c into itself (so its static init_db/create_database are callable) and
 * runs the same steps init_database() runs — migrate, open LMDB, backend_init,
 * backend_load (debdb: read dpkg's database and every package's md5sums, check each
 * file's MD5, hash it with SHA-256), create_database (one LMDB write per entry) —
 * but with the database directory set by the caller and without the update thread
 * (which would open the daemon's FIFO under /run). No fanotify call is reachable.
 *
 *   fapolicyd-debdb-load build DIR        build the trust database in DIR (empty it first)
 *   fapolicyd-debdb-load count DIR OUT    write each entry's path to OUT (one a line) and
 *                                         print {"entries":N,"bytes":B} on stdout (B: the
 *                                         sum of the file sizes the entries record)
 *
 * Built by scripts/bench-deps/fapolicyd-debdb.sh against the fapolicyd source it builds.
 */
#include "config.h"
#include "../library/database.c"

/* The daemon (src/daemon/fapolicyd.c) defines these; the library refers to them. */
volatile atomic_bool stop = false;
unsigned int debug_mode = 0, permissive = 0;

static void setup(conf_t *c, const char *dir)
{
	memset(c, 0, sizeof(*c));
	c->trust = "debdb";
	c->integrity = IN_SHA256;
	/* MiB; the daemon's default (100) is too small for every file of a full system. */
	c->db_max_size = 2048;
	data_dir = dir;
}

int main(int argc, char *argv[])
{
	conf_t c;
	int rc;

	if (argc == 3 && strcmp(argv[1], "build") == 0) {
		set_message_mode(MSG_STDERR, DBG_NO);
		setup(&c, argv[2]);
		if (migrate_database())
			return 2;
		if ((rc = init_db(&c))) {
			fprintf(stderr, "init_db failed (%d)\n", rc);
			return 3;
		}
		if ((rc = backend_init(&c)) || (rc = backend_load(&c))) {
			fprintf(stderr, "debdb backend failed (%d)\n", rc);
			return 4;
		}
		rc = create_database(/*with_sync*/1);
		backend_close();
		close_db(0);
		return rc ? 5 : 0;
	}
	if (argc == 4 && strcmp(argv[1], "count") == 0) {
		set_message_mode(MSG_QUIET, DBG_NO);
		setup(&c, argv[2]);
		FILE *out = fopen(argv[3], "w");
		if (!out)
			return 6;
		if (walk_database_start(&c))
			return 7;
		unsigned long n = 0, bytes = 0;
		do {
			walkdb_entry_t *e = walk_database_get_entry();
			char data[80], sha[65];
			unsigned int tsource;
			unsigned long size;
			fprintf(out, "%.*s\n", (int)e->path.mv_size, (const char *)e->path.mv_data);
			snprintf(data, sizeof(data), "%.*s", (int)e->data.mv_size, (const char *)e->data.mv_data);
			if (sscanf(data, DATA_FORMAT, &tsource, &size, sha) == 3)
				bytes += size;
			n++;
		} while (walk_database_next());
		walk_database_finish();
		fclose(out);
		printf("{\"entries\":%lu,\"bytes\":%lu}\n", n, bytes);
		return 0;
	}
	fprintf(stderr, "usage: %s build DIR | count DIR OUT\n", argv[0]);
	return 1;
}
