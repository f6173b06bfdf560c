import type { DashboardFileError } from '@livedash/dashboard-config';

/**
 * Why a dashboard file's latest version is not on screen: the file, then each problem with its key.
 * Shown above the last valid panels (or alone when the file was never valid) until the file is fixed.
 */
export function DashboardError({
  error,
  showing,
}: {
  error: DashboardFileError;
  showing: 'last-valid' | 'nothing';
}) {
  return (
    <section className="config-error" role="alert" data-testid="dashboard-error">
      <p>
        <strong>
          <code>{error.file}</code> has{' '}
          {error.problems.length === 1 ? 'a problem' : `${error.problems.length} problems`}
        </strong>
        {showing === 'last-valid'
          ? ' — the panels below are its last valid version. Fix the file and this page updates by itself.'
          : ' — there is no valid version to show yet. Fix the file and this page updates by itself.'}
      </p>
      <ul>
        {error.problems.map((problem, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: problems have no identity beyond their order.
          <li key={index}>
            {problem.key !== '' && <code className="config-error-key">{problem.key}:</code>} {problem.reason}
          </li>
        ))}
      </ul>
    </section>
  );
}
