/**
 * @module auth/messages
 * Messages of the second sign-in step, the second factor and the history lines of sign-in
 * events added with them (the first sign-in messages live in the shell's catalogue).
 */
export const fr = {
  "login.otpTitle": "Double authentification",
  "login.otpIntro": "Saisissez le code à 6 chiffres affiché par votre application d'authentification.",
  "login.otpCode": "Code",
  "login.otpSubmit": "Valider",
  "login.otpFailed": "Code incorrect ou déjà utilisé.",
  "login.otpExpired": "Cette étape de connexion a expiré. Reconnectez-vous.",
  "login.otpCancel": "Revenir à la connexion",

  "totp.alreadyOn": "La double authentification est déjà activée.",
  "totp.notEnrolling": "Aucune activation en cours : recommencez.",
  "totp.notOn": "La double authentification n'est pas activée.",
  "totp.wrongCode": "Code incorrect ou déjà utilisé.",
  "totp.wrongProof": "Code ou mot de passe incorrect.",
  "totp.requiredCannotDisable": "La double authentification est obligatoire pour les super-administrateurs : elle ne peut pas être désactivée.",
  "totp.mustEnroll": "La double authentification est obligatoire pour les super-administrateurs : activez-la pour continuer.",

  "history.login.otpFailure": "Code de double authentification incorrect pour {login}",
  "history.api.failure": "Échec d'authentification à l'API pour « {login} »",
  "history.session.revoked": "{login} a fermé une de ses sessions",
  "history.session.revokedOthers": "{login} a fermé ses autres sessions ({count})",
  "history.totp.enabled": "Double authentification activée par {login}",
  "history.totp.disabled": "Double authentification désactivée par {login}",
  "history.totp.requiredOn": "Double authentification rendue obligatoire pour les super-administrateurs par {login}",
  "history.totp.requiredOff": "Double authentification rendue facultative pour les super-administrateurs par {login}",
} as const;

export const en: Record<keyof typeof fr, string> = {
  "login.otpTitle": "Two-factor sign-in",
  "login.otpIntro": "Enter the 6-digit code shown by your authenticator app.",
  "login.otpCode": "Code",
  "login.otpSubmit": "Verify",
  "login.otpFailed": "Wrong or already used code.",
  "login.otpExpired": "This sign-in step has expired. Please sign in again.",
  "login.otpCancel": "Back to sign-in",

  "totp.alreadyOn": "Two-factor sign-in is already on.",
  "totp.notEnrolling": "No set-up in progress: start again.",
  "totp.notOn": "Two-factor sign-in is not on.",
  "totp.wrongCode": "Wrong or already used code.",
  "totp.wrongProof": "Wrong code or password.",
  "totp.requiredCannotDisable": "Two-factor sign-in is compulsory for super-administrators: it cannot be turned off.",
  "totp.mustEnroll": "Two-factor sign-in is compulsory for super-administrators: turn it on to continue.",

  "history.login.otpFailure": "Wrong two-factor code for {login}",
  "history.api.failure": "Failed API authentication for “{login}”",
  "history.session.revoked": "{login} closed one of their sessions",
  "history.session.revokedOthers": "{login} closed their other sessions ({count})",
  "history.totp.enabled": "Two-factor sign-in turned on by {login}",
  "history.totp.disabled": "Two-factor sign-in turned off by {login}",
  "history.totp.requiredOn": "Two-factor sign-in made compulsory for super-administrators by {login}",
  "history.totp.requiredOff": "Two-factor sign-in made optional for super-administrators by {login}",
};
