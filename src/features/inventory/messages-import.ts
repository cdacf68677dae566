/**
 * @module inventory/messages-import
 * Strings of the inventory's write side (receiving, requesting, who may post), French
 * first; English typed against it.
 */
export const fr = {
  "perm.category.inventory": "Inventaire",
  "perm.inventory.request": "Demander un inventaire aux agents",
  "perm.inventory.settings": "Régler qui peut envoyer des inventaires",
  "inventory.history.first": "Premier inventaire de {name} reçu de {agent} ({software} logiciels)",
  "inventory.history.received": "Inventaire de {name} reçu de {agent} ({software} logiciels, {changes} changements)",
  "inventory.history.requested": "Inventaire demandé à {name}",
  "inventory.history.settings": "Réglages de réception des inventaires modifiés ({what})",
  "inventory.error.refused": "Inventaire refusé : {reason}",
  "inventory.error.offline": "{name} n'est pas connectée : l'inventaire ne peut pas lui être demandé.",
  "inventory.error.unknownHash": "Cet inventaire inchangé ne correspond pas au dernier reçu : envoyez l'inventaire complet.",
  "inventory.settings.keyLength": "La clé doit compter de 16 à 256 caractères.",
  "inventory.settings.badNetwork": "Réseaux : des adresses ou des plages CIDR (10.0.0.0/8, fd00::/8), 256 au plus.",
  "inventory.settings.badEntity": "Cette entité n'existe pas.",
};

export const en: Record<keyof typeof fr, string> = {
  "perm.category.inventory": "Inventory",
  "perm.inventory.request": "Request an inventory from agents",
  "perm.inventory.settings": "Set who may post inventories",
  "inventory.history.first": "First inventory of {name} received from {agent} ({software} software)",
  "inventory.history.received": "Inventory of {name} received from {agent} ({software} software, {changes} changes)",
  "inventory.history.requested": "Inventory requested from {name}",
  "inventory.history.settings": "Inventory reception settings changed ({what})",
  "inventory.error.refused": "Inventory refused: {reason}",
  "inventory.error.offline": "{name} is not connected: its inventory cannot be requested.",
  "inventory.error.unknownHash": "This unchanged inventory does not match the last one received: send the full inventory.",
  "inventory.settings.keyLength": "The key must be 16 to 256 characters long.",
  "inventory.settings.badNetwork": "Networks: addresses or CIDR ranges (10.0.0.0/8, fd00::/8), 256 at most.",
  "inventory.settings.badEntity": "This entity does not exist.",
};
