// `ward status`'s line for ward run's layers beyond Landlock: which ones this machine can set up
// for every sandboxed command (the Landlock line above says what Landlock itself restricts), and
// what stays open whatever the flags. `ward run --explain` gives the same per command line.

import { errorCode } from '../errors.ts';
import { libseccompVersion } from '../kernel/seccomp.ts';
import type { StatusItem } from './status.ts';

export function sandboxLayersItem(landlockAbi: number): StatusItem {
  let seccomp: string | undefined;
  let missing = '';
  try {
    seccomp = libseccompVersion();
  } catch (e) {
    missing = `libseccomp cannot be loaded (${errorCode(e) ?? 'error'}; apt-get install libseccomp2), so ward run refuses to start a sandbox`;
  }
  const layers = [
    'a session of its own (no terminal injection; --share-session keeps the terminal)',
    'every capability dropped (--keep-caps), no_new_privs',
    'fds 0-2 only (plus --preserve-fds / LISTEN_FDS)',
    'a clean environment (--env to pass variables)',
  ];
  if (seccomp) {
    layers.push(`seccomp through libseccomp ${seccomp}: TIOCSTI/TIOCLINUX, io_uring, pathname unix sockets (--unix), and with the network restricted: non-TCP sockets (--allow-udp), TCP Fast Open, listen() (--bind-tcp); SysV IPC (--allow-sysv-ipc) and keyrings (--allow-keyrings) refused`);
  }
  return {
    name: 'ward run layers',
    value: seccomp ? 'landlock+seccomp' : 'landlock only',
    usable: landlockAbi >= 1 && seccomp !== undefined ? true : false,
    meaning: `${seccomp ? '' : `${missing}; `}besides Landlock, each sandboxed command gets ${layers.join('; ')}; never restricted: memfd/fd-based exec, metadata calls (stat, chmod, chown), fds opened before the sandbox (ward run --explain lists them per command line)`,
  };
}
