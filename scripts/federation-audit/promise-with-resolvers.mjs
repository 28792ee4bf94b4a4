// The audit's runner uses Promise.withResolvers (Node 22); this adds it on Node 20
// (NODE_OPTIONS=--import <this file>, docs/federation.md "Federation audit").
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
