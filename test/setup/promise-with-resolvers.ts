/**
 * aws-local-stepfunctions 3 calls `Promise.withResolvers`, which Node.js only has from 22 on.
 * On Node 20 every Task would throw, and a `Catch: States.ALL` would quietly route the
 * rehearsal down the failure path, so the polyfill is installed before any test runs.
 */
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};
