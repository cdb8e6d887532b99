// systemd's readiness and watchdog protocol (sd_notify(3)): datagrams to $NOTIFY_SOCKET.

import { sendUnixDatagram } from '../kernel/io.ts';

export function sdNotify(message: string): boolean {
  const socket = process.env.NOTIFY_SOCKET;
  if (!socket) return false;
  try {
    sendUnixDatagram(socket, message);
    return true;
  } catch {
    return false;
  }
}

/** The watchdog interval systemd asked for (WATCHDOG_USEC, for this pid), in ms. */
export function watchdogIntervalMs(): number | undefined {
  const usec = Number(process.env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (process.env.WATCHDOG_PID && Number(process.env.WATCHDOG_PID) !== process.pid) return undefined;
  return usec / 1000;
}
