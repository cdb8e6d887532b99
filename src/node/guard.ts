// Guarding a constructor everywhere the app can reach it: its published name, and its
// prototype's `constructor` (so `Object.getPrototypeOf(instance).constructor` and subclasses,
// whose super() goes through the guard, find the guard, not the original).

type Ctor = new (...a: unknown[]) => object;

/** `check` may throw, or replace arguments in place (the array it gets is the one passed on). */
export function guardCtor(holder: Record<string, unknown>, name: string, check: (args: unknown[]) => void): void {
  const C = holder[name] as Ctor | undefined;
  if (typeof C !== 'function') return;
  const guarded = new Proxy(C, {
    construct(target, a, nt) {
      const args = Array.from({ length: a.length }, (_, i) => a[i]);
      check(args);
      return Reflect.construct(target, args, nt) as object;
    },
    apply(target, self, a) {
      const args = Array.from({ length: a.length }, (_, i) => a[i]);
      check(args);
      return Reflect.apply(target, self, args) as unknown;
    },
  });
  holder[name] = guarded;
  Object.defineProperty(C.prototype, 'constructor', { value: guarded, writable: true, configurable: true, enumerable: false });
}
