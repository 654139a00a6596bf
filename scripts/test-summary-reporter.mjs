// A second reporter for `npm test`: at the very end it lists every test that did not pass (failed,
// cancelled or timed out) with its file and the first line of its error, so the last lines of a long run
// (often all a CI page keeps) say which tests to look at.
export default async function* summary(source) {
  const bad = [];
  for await (const event of source) {
    if (event.type !== 'test:fail') continue;
    const { name, file, details } = event.data;
    const error = details?.error;
    // a suite fails when one of its tests did; list the tests, not the suites around them
    if (error?.failureType === 'subtestsFailed' || details?.type === 'suite') continue;
    const cause = error?.cause ?? error;
    const reason = String(cause?.message ?? cause ?? 'failed').split('\n')[0];
    bad.push({ file: file ?? '?', name, kind: error?.failureType ?? 'failed', reason });
  }
  if (bad.length === 0) {
    yield '# every test passed\n';
    return;
  }
  yield `# ${bad.length} test(s) did not pass:\n`;
  for (const t of bad) yield `#   ${t.file.replace(process.cwd() + '/', '')} :: ${t.name} [${t.kind}] ${t.reason}\n`;
}
