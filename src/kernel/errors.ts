import { WardError, type ErrnoName } from '../errors.ts';

/** A failed system call: code is the errno name (EACCES, EPERM…), syscall names the call. */
export class KernelError extends WardError {
  readonly syscall: string;
  constructor(code: ErrnoName, syscall: string, message: string) {
    super(code, message);
    this.name = 'KernelError';
    this.syscall = syscall;
  }
}
