/** Which CI system runs us, from its documented environment variables. */
import type { CiFact, CiSystem } from '../../model/report.js';

export function detectCi(env: NodeJS.ProcessEnv, exists: (p: string) => boolean = () => false): CiFact {
  let system: CiSystem = 'local';
  if (env.GITHUB_ACTIONS === 'true') system = 'github-actions';
  else if (env.GITLAB_CI) system = 'gitlab-ci';
  else if (env.CI_SYSTEM_NAME === 'woodpecker' || env.WOODPECKER === 'true' || env.CI === 'woodpecker')
    system = 'woodpecker';
  else if (env.DRONE === 'true') system = 'drone';
  else if (env.JENKINS_URL || env.JENKINS_HOME) system = 'jenkins';
  else if (env.BUILDKITE === 'true') system = 'buildkite';
  return {
    system,
    kubernetes: !!env.KUBERNETES_SERVICE_HOST,
    container: exists('/.dockerenv') || exists('/run/.containerenv') || !!env.container,
  };
}
