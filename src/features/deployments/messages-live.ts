/**
 * @module deployments/messages-live
 * Strings of a running step's live output on the follow page and in the machine's log,
 * French first; English typed against it.
 */
export const fr = {
  "deploy.live.title": "Sortie de l'étape en cours",
  "deploy.live.omitted": "… {n} ligne(s) omise(s) …",
  "deploy.live.capped": "… sortie en direct plafonnée : la fin arrive avec le résultat de l'étape …",
  "deploy.live.log": "sortie en direct (étape {step}, exécution {exec})",
};

export const en: Record<keyof typeof fr, string> = {
  "deploy.live.title": "Output of the running step",
  "deploy.live.omitted": "… {n} line(s) omitted …",
  "deploy.live.capped": "… live output capped: the end comes with the step's result …",
  "deploy.live.log": "live output (step {step}, execution {exec})",
};
