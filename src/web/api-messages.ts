/**
 * @module web/api-messages
 * Messages of the JSON API's infrastructure (./api.ts): field reasons of validation
 * errors, cursors, bearer tokens. `{ fr, en }`, the English typed against the French.
 */
export const fr = {
  "api.field.unknown": "Champ inconnu.",
  "api.field.integer": "Un nombre entier est attendu.",
  "api.field.number": "Un nombre est attendu.",
  "api.field.boolean": "Une valeur vrai/faux est attendue.",
  "api.field.string": "Un texte est attendu.",
  "api.field.object": "Un objet JSON est attendu.",
  "api.field.array": "Une liste est attendue.",
  "api.field.minimum": "La valeur doit être au moins {min}.",
  "api.field.maximum": "La valeur doit être au plus {max}.",
  "api.field.minLength": "Au moins {min} caractère(s).",
  "api.field.maxLength": "Au plus {max} caractères.",
  "api.field.minItems": "Au moins {min} élément(s).",
  "api.field.maxItems": "Au plus {max} éléments.",
  "api.field.pattern": "Le format n'est pas valide.",
  "api.field.format": "Le format n'est pas valide.",
  "api.field.choice": "Cette valeur n'est pas permise.",
  "api.field.invalid": "Valeur invalide.",
  "api.cursor.invalid": "Ce curseur n'est pas valide : reprenez la liste depuis le début.",
  "api.token.invalid": "Jeton d'API inconnu, expiré ou révoqué.",
  "api.otpRequired": "Ce compte utilise la double authentification : ajoutez le code actuel (champ otp).",
} as const;

export const en: Record<keyof typeof fr, string> = {
  "api.field.unknown": "Unknown field.",
  "api.field.integer": "An integer is expected.",
  "api.field.number": "A number is expected.",
  "api.field.boolean": "A true/false value is expected.",
  "api.field.string": "A string is expected.",
  "api.field.object": "A JSON object is expected.",
  "api.field.array": "A list is expected.",
  "api.field.minimum": "The value must be at least {min}.",
  "api.field.maximum": "The value must be at most {max}.",
  "api.field.minLength": "At least {min} character(s).",
  "api.field.maxLength": "At most {max} characters.",
  "api.field.minItems": "At least {min} item(s).",
  "api.field.maxItems": "At most {max} items.",
  "api.field.pattern": "The format is not valid.",
  "api.field.format": "The format is not valid.",
  "api.field.choice": "This value is not allowed.",
  "api.field.invalid": "Invalid value.",
  "api.cursor.invalid": "This cursor is not valid: start the list again from the beginning.",
  "api.token.invalid": "Unknown, expired or revoked API token.",
  "api.otpRequired": "This account uses two-factor sign-in: add the current code (field otp).",
};
