// Technique → tactic links of these techniques; they are linked again right after (a tactic
// changed, so the choice of tactic may have changed).
UNWIND $ids AS id
MATCH (:AttackObject {stix_id: id})-[r:IN_TACTIC]->()
DELETE r
