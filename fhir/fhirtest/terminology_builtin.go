package fhirtest

// The terminology the server knows: the CodeSystem, ValueSet and
// ConceptMap resources stored in it (Seed them), found by their url, and
// when none has the url asked for, the small built-in ones below.
const (
	labSystem   = "http://example.org/fhir/CodeSystem/lab-tests"
	loincSystem = "http://loinc.org"
)

var builtinTerminology = []string{`{
 "resourceType": "CodeSystem", "id": "lab-tests", "url": "` + labSystem + `", "version": "1.0.0",
 "name": "LabTests", "status": "active", "content": "complete",
 "property": [{"code": "units", "type": "string"}, {"code": "inactive", "type": "boolean"}],
 "concept": [
  {"code": "GLU", "display": "Glucose", "designation": [{"language": "de", "value": "Glukose"}],
   "property": [{"code": "units", "valueString": "mg/dL"}]},
  {"code": "HBA1C", "display": "Hemoglobin A1c", "designation": [{"language": "de", "value": "Hämoglobin A1c"}],
   "property": [{"code": "units", "valueString": "%"}]},
  {"code": "CHOL", "display": "Cholesterol", "designation": [{"language": "de", "value": "Cholesterin"}],
   "property": [{"code": "units", "valueString": "mg/dL"}]},
  {"code": "K", "display": "Potassium", "designation": [{"language": "de", "value": "Kalium"}],
   "property": [{"code": "units", "valueString": "mmol/L"}]},
  {"code": "GLU-OLD", "display": "Glucose (retired method)", "property": [{"code": "inactive", "valueBoolean": true}]}
 ]}`, `{
 "resourceType": "ValueSet", "id": "lab-tests", "url": "http://example.org/fhir/ValueSet/lab-tests", "version": "1.0.0",
 "name": "LabTests", "status": "active", "compose": {"include": [{"system": "` + labSystem + `"}]}}`, `{
 "resourceType": "ValueSet", "id": "diabetes-labs", "url": "http://example.org/fhir/ValueSet/diabetes-labs", "version": "1.0.0",
 "name": "DiabetesLabs", "status": "active",
 "compose": {"include": [{"system": "` + labSystem + `", "concept": [{"code": "GLU"}, {"code": "HBA1C"}]}]}}`, `{
 "resourceType": "ConceptMap", "id": "lab-tests-to-loinc", "url": "http://example.org/fhir/ConceptMap/lab-tests-to-loinc",
 "version": "1.0.0", "name": "LabTestsToLOINC", "status": "active",
 "group": [{"source": "` + labSystem + `", "target": "` + loincSystem + `", "element": [
   {"code": "GLU", "target": [{"code": "2345-7", "display": "Glucose [Mass/volume] in Serum or Plasma", "equivalence": "equivalent"}]},
   {"code": "HBA1C", "target": [{"code": "4548-4", "display": "Hemoglobin A1c/Hemoglobin.total in Blood", "equivalence": "equivalent"}]},
   {"code": "CHOL", "target": [{"code": "2093-3", "display": "Cholesterol [Mass/volume] in Serum or Plasma", "equivalence": "equivalent"}]},
   {"code": "K", "target": [{"code": "2823-3", "display": "Potassium [Moles/volume] in Serum or Plasma", "equivalence": "narrower"}]},
   {"code": "GLU-OLD", "target": [{"equivalence": "unmatched"}]}]},
  {"source": "` + labSystem + `", "target": "http://snomed.info/sct", "element": [
   {"code": "GLU", "target": [{"code": "33747003", "display": "Glucose measurement, blood", "equivalence": "wider"}]}]}]}`}
