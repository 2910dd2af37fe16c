SHOW INDEXES YIELD name, type, state, populationPercent, labelsOrTypes, properties, owningConstraint
RETURN name, type, state, populationPercent, labelsOrTypes, properties, owningConstraint
ORDER BY name
