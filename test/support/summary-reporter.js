// Ends every run with one plain line of counts, e.g. "438 passed, 0 failed, 0 skipped", after
// Jest's own summary (hence at exit).
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const line = `${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped`;
    process.once('exit', () => process.stdout.write(`${line}\n`));
  }
}

module.exports = SummaryReporter;
