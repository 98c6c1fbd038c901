/**
 * Whether a process on this machine still runs, by its pid: signal 0 checks without sending
 * anything; EPERM means it runs under another user. The file locks of the chat history and of a
 * Hub download use it to tell a lock left by a crashed process from one that is held.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
