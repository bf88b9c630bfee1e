// Package fhirgen writes mixed FHIR R4 searchset Bundles for the decoder's
// benchmarks and differential tests: Patients, Observations with
// components and extensions, Encounters, Conditions, MedicationRequests
// with contained Medications, and included Practitioners, Organizations,
// Procedures, AllergyIntolerances and DiagnosticReports, written as
// servers write them — narratives with escapes, primitive extensions
// (_birthDate, _given with nulls), decimals such as 1.50, 1e2 and -0.0,
// \u escapes and raw UTF-8. The same seed gives the same bytes.
package fhirgen

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Searchset returns a searchset Bundle of at least size bytes (one entry
// more than fits), generated from seed. Each entry's resource decodes
// into its model of github.com/samply/golang-fhir-models without error.
func Searchset(seed uint64, size int) []byte {
	g := &gen{rng: rand.New(rand.NewPCG(seed, 0x5eed))}
	w := &g.w
	w.WriteString(`{"resourceType":"Bundle","id":"`)
	w.WriteString(g.id())
	w.WriteString(`","meta":{"lastUpdated":"2024-05-17T09:41:12.345+00:00"},"type":"searchset","total":`)
	w.WriteString(strconv.Itoa(1000 + g.rng.IntN(9000)))
	w.WriteString(`,"link":[{"relation":"self","url":"https://ehr.example.org/fhir/Observation?patient=Patient%2F`)
	w.WriteString(g.id())
	w.WriteString(`&_include=Observation:performer&_count=250"},{"relation":"next","url":"https://ehr.example.org/fhir?_getpages=`)
	w.WriteString(g.id())
	w.WriteString(`&_getpagesoffset=250&_count=250&_bundletype=searchset"}],"entry":[`)
	for n := 0; w.Len() < size; n++ {
		if n > 0 {
			w.WriteByte(',')
		}
		g.entry()
	}
	w.WriteString(`]}`)
	return []byte(w.String())
}

type gen struct {
	rng *rand.Rand
	w   strings.Builder
}

// resource kinds, weighted: the five a clinical search returns most, then
// what _include brings.
var kinds = []struct {
	name   string
	weight int
	write  func(*gen, string)
	mode   string
}{
	{"Observation", 34, (*gen).observation, "match"},
	{"Patient", 14, (*gen).patient, "match"},
	{"Encounter", 12, (*gen).encounter, "match"},
	{"Condition", 12, (*gen).condition, "match"},
	{"MedicationRequest", 12, (*gen).medicationRequest, "match"},
	{"Practitioner", 4, (*gen).practitioner, "include"},
	{"Organization", 3, (*gen).organization, "include"},
	{"Procedure", 3, (*gen).procedure, "match"},
	{"AllergyIntolerance", 3, (*gen).allergy, "match"},
	{"DiagnosticReport", 3, (*gen).diagnosticReport, "match"},
}

func (g *gen) entry() {
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	r := g.rng.IntN(total)
	k := kinds[0]
	for _, c := range kinds {
		if r < c.weight {
			k = c
			break
		}
		r -= c.weight
	}
	id := g.id()
	g.raw(`{"fullUrl":"https://ehr.example.org/fhir/` + k.name + `/` + id + `","resource":{"resourceType":"` + k.name + `","id":"` + id + `",`)
	g.meta()
	k.write(g, id)
	g.raw(`},"search":{"mode":"` + k.mode + `"`)
	if k.mode == "match" && g.p(30) {
		g.raw(`,"score":` + g.pick("1", "0.8", "1.0", "0.50"))
	}
	g.raw(`}}`)
}

func (g *gen) raw(s string)   { g.w.WriteString(s) }
func (g *gen) p(pct int) bool { return g.rng.IntN(100) < pct }

func (g *gen) pick(s ...string) string { return s[g.rng.IntN(len(s))] }

// str writes a member "k":"v"; v is JSON string text (escapes and all).
func (g *gen) str(k, v string) { g.raw(`"` + k + `":"` + v + `"`) }

func (g *gen) id() string {
	const digits = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [12]byte
	for i := range b {
		b[i] = digits[g.rng.IntN(len(digits))]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

func (g *gen) date() string {
	return strconv.Itoa(1940+g.rng.IntN(84)) + "-" + two(1+g.rng.IntN(12)) + "-" + two(1+g.rng.IntN(28))
}

func (g *gen) dateTime() string {
	return g.date() + "T" + two(g.rng.IntN(24)) + ":" + two(g.rng.IntN(60)) + ":" + two(g.rng.IntN(60)) +
		g.pick("+00:00", "Z", "-05:00", ".123+01:00", "+02:00")
}

func two(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// decimal is a number as servers write FHIR decimals: precision kept
// (1.50), exponents, negative zero, integers, long fractions.
func (g *gen) decimal() string {
	switch g.rng.IntN(10) {
	case 0:
		return g.pick("1e2", "7.2E-3", "1.5e+1", "-0.0", "0.0", "1E0", "-2.5e-4")
	case 1:
		return strconv.Itoa(g.rng.IntN(300))
	case 2:
		return "0.000" + strconv.Itoa(1+g.rng.IntN(999))
	case 3:
		return strconv.Itoa(g.rng.IntN(100)) + ".12345678901234567890"
	default:
		return strconv.Itoa(g.rng.IntN(250)) + "." + strconv.Itoa(g.rng.IntN(10)) + g.pick("", "0", "5", "00")
	}
}

func (g *gen) meta() {
	g.raw(`"meta":{"versionId":"` + strconv.Itoa(1+g.rng.IntN(9)) + `","lastUpdated":"` + g.dateTime() + `"`)
	if g.p(50) {
		g.raw(`,"source":"#` + g.id() + `"`)
	}
	if g.p(40) {
		g.raw(`,"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-` + g.pick("patient", "observation-lab", "condition", "encounter") + `"]`)
	}
	if g.p(20) {
		g.raw(`,"tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HTEST","display":"test health data"}]`)
	}
	g.raw(`},`)
}

// names hold JSON string text: raw UTF-8, \u escapes, surrogate pairs.
var (
	families = []string{"Chalmers", "M\\u00fcller", "Dvo\u0159\u00e1k", "O'Brien", "Nguy\u1ec5n", "van der Berg", "Garc\\u00eda", "\u5c71\u7530", "Smith", "Okonkwo", "Kowalski", "Andr\\u00e9-Dupont"}
	givens   = []string{"Peter", "James", "Jos\\u00e9", "Zo\u00eb", "Ana", "Mar\\u00eda", "Jim", "\u592a\u90ce", "Li", "Emma", "Olivia", "Noah", "S\\u00f8ren"}
	notes    = []string{
		"Patient reports \\\"mild\\\" pain; see note.\\nFollow up in 2 weeks.",
		"Taken at rest \\u2014 cuff size adult.",
		"R\u00e9sultat v\u00e9rifi\u00e9 \\/ valid\u00e9",
		"Fasting: yes\\tSample: venous\\r\\nHemolysed: no",
		"Emoji in free text \\ud83d\\ude00 happens",
		"Plain note without escapes, as most notes are.",
	}
)

func (g *gen) narrative(title string) {
	g.raw(`"text":{"status":"` + g.pick("generated", "generated", "extensions", "additional") + `","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p><b>` + title + `</b> `)
	g.raw(g.pick(givens...) + ` ` + g.pick(families...) + `</p>`)
	for range 1 + g.rng.IntN(4) {
		g.raw(`<table class=\"grid\"><tr><td>` + g.pick("Status", "Code", "Value", "Date") + `</td><td>` + g.pick(notes...) + `</td></tr></table>\n`)
	}
	g.raw(`<p>Generated &amp; verified \u2013 ` + g.dateTime() + `<\/p></div>"},`)
}

func (g *gen) coding(system, code, display string) {
	g.raw(`{"system":"` + system + `","code":"` + code + `"`)
	if display != "" {
		g.raw(`,"display":"` + display + `"`)
	}
	g.raw(`}`)
}

func (g *gen) concept(k, system, code, display string) {
	g.raw(`"` + k + `":{"coding":[`)
	g.coding(system, code, display)
	if g.p(30) {
		g.raw(`,`)
		g.coding("http://snomed.info/sct", strconv.Itoa(100000+g.rng.IntN(900000)), "")
	}
	g.raw(`]`)
	if g.p(50) {
		g.raw(`,"text":"` + display + `"`)
	}
	g.raw(`}`)
}

func (g *gen) ref(k, typ string) {
	g.raw(`"` + k + `":{"reference":"` + typ + `/` + g.id() + `"`)
	if g.p(40) {
		g.raw(`,"display":"` + g.pick(givens...) + ` ` + g.pick(families...) + `"`)
	}
	g.raw(`}`)
}

func (g *gen) quantity(k, unit, code string) {
	g.raw(`"` + k + `":{"value":` + g.decimal())
	if g.p(10) {
		g.raw(`,"comparator":"` + g.pick("<", "<=", ">=", ">") + `"`)
	}
	g.raw(`,"unit":"` + unit + `","system":"http://unitsofmeasure.org","code":"` + code + `"}`)
}

// extension writes one extension of several shapes (nested, decimals,
// codings, strings with escapes).
func (g *gen) extension() {
	switch g.rng.IntN(5) {
	case 0:
		g.raw(`{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"ombCategory","valueCoding":`)
		g.coding("urn:oid:2.16.840.1.113883.6.238", g.pick("2106-3", "2054-5", "2028-9"), g.pick("White", "Black or African American", "Asian"))
		g.raw(`},{"url":"text","valueString":"` + g.pick("White", "Asian", "Mixed \\u2014 declined detail") + `"}]}`)
	case 1:
		g.raw(`{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex","valueCode":"` + g.pick("F", "M", "UNK") + `"}`)
	case 2:
		g.raw(`{"url":"http://example.org/fhir/StructureDefinition/score","valueDecimal":` + g.decimal() + `}`)
	case 3:
		g.raw(`{"url":"http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName","valueString":"` + g.pick(families...) + `"}`)
	default:
		g.raw(`{"url":"http://example.org/fhir/StructureDefinition/flags","extension":[{"url":"verified","valueBoolean":` + g.pick("true", "false") + `},{"url":"count","valueInteger":` + strconv.Itoa(g.rng.IntN(50)) + `}]}`)
	}
}

func (g *gen) extensions(k string, n int) {
	g.raw(`"` + k + `":[`)
	for i := range n {
		if i > 0 {
			g.raw(`,`)
		}
		g.extension()
	}
	g.raw(`]`)
}

// primitive writes "_k", a primitive's extension, after its value.
func (g *gen) primitive(k string) {
	g.raw(`,"_` + k + `":{"extension":[`)
	g.extension()
	g.raw(`]}`)
}

func (g *gen) identifier() {
	g.raw(`"identifier":[{"use":"` + g.pick("usual", "official", "secondary") + `","type":{"coding":[`)
	g.coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical record number")
	g.raw(`]},"system":"urn:oid:1.2.36.146.595.217.0.1","value":"` + strconv.Itoa(g.rng.IntN(10000000)) + `"}],`)
}

func (g *gen) name() {
	g.raw(`{"use":"` + g.pick("official", "usual", "maiden") + `","family":"` + g.pick(families...) + `","given":[`)
	n := 1 + g.rng.IntN(2)
	for i := range n {
		if i > 0 {
			g.raw(`,`)
		}
		g.raw(`"` + g.pick(givens...) + `"`)
	}
	if g.p(25) { // a given name known only by its extension: null beside _given
		g.raw(`,null],"_given":[`)
		for range n {
			g.raw(`null,`)
		}
		g.raw(`{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"masked"}]}]`)
	} else {
		g.raw(`]`)
	}
	if g.p(30) {
		g.raw(`,"prefix":["` + g.pick("Dr.", "Mr.", "Ms.", "Prof. Dr. med.") + `"]`)
	}
	g.raw(`}`)
}

func (g *gen) patient(string) {
	g.narrative("Patient")
	g.extensions("extension", 1+g.rng.IntN(3))
	g.raw(`,`)
	g.identifier()
	g.raw(`"active":true,"name":[`)
	g.name()
	if g.p(40) {
		g.raw(`,`)
		g.name()
	}
	g.raw(`],"telecom":[{"system":"phone","value":"+1 (555) ` + strconv.Itoa(1000000+g.rng.IntN(8999999)) + `","use":"` + g.pick("home", "work", "mobile") + `","rank":1},{"system":"email","value":"p` + strconv.Itoa(g.rng.IntN(9999)) + `@example.org"}],`)
	g.str("gender", g.pick("male", "female", "other", "unknown"))
	if g.p(20) {
		g.primitive("gender")
	}
	g.raw(`,`)
	g.str("birthDate", g.date())
	if g.p(40) {
		g.raw(`,"_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"` + g.dateTime() + `"}]}`)
	}
	g.raw(`,"deceasedBoolean":false,"address":[{"use":"home","type":"both","text":"` + strconv.Itoa(g.rng.IntN(999)) + ` Erewhon St\nPleasantVille","line":["` + strconv.Itoa(g.rng.IntN(999)) + ` Erewhon St","Apt \u00ba ` + strconv.Itoa(g.rng.IntN(99)) + `"],"city":"` + g.pick("PleasantVille", "M\\u00fcnchen", "Z\u00fcrich", "S\u00e3o Paulo") + `","state":"Vic","postalCode":"` + strconv.Itoa(1000+g.rng.IntN(8999)) + `","country":"AU","period":{"start":"` + g.date() + `"}}],`)
	g.concept("maritalStatus", "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", g.pick("M", "S", "D"), g.pick("Married", "Never Married", "Divorced"))
	g.raw(`,"communication":[{"language":{"coding":[{"system":"urn:ietf:bcp:47","code":"` + g.pick("en-US", "de", "fr-CA", "es") + `"}]},"preferred":true}],"generalPractitioner":[{"reference":"Practitioner/` + g.id() + `"}],"managingOrganization":{"reference":"Organization/` + g.id() + `","display":"Acme Healthcare \\u0026 Co"}`)
}

type vital struct{ code, display, unit, ucum string }

var vitals = []vital{
	{"8867-4", "Heart rate", "beats/minute", "/min"}, {"8310-5", "Body temperature", "Cel", "Cel"},
	{"29463-7", "Body weight", "kg", "kg"}, {"8302-2", "Body height", "cm", "cm"},
	{"2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", "mg/dL"}, {"718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", "g/dL"},
	{"2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL"}, {"59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", "%"},
}

func (g *gen) observation(string) {
	bp := g.p(30)
	if g.p(60) {
		g.narrative("Observation")
	}
	if g.p(35) {
		g.extensions("extension", 1+g.rng.IntN(2))
		g.raw(`,`)
	}
	g.raw(`"status":"` + g.pick("final", "final", "amended", "preliminary") + `","category":[{"coding":[`)
	g.coding("http://terminology.hl7.org/CodeSystem/observation-category", g.pick("vital-signs", "laboratory"), "")
	g.raw(`]}],`)
	v := vitals[g.rng.IntN(len(vitals))]
	if bp {
		v = vital{"85354-9", "Blood pressure panel with all children optional", "", ""}
	}
	g.concept("code", "http://loinc.org", v.code, v.display)
	g.raw(`,`)
	g.ref("subject", "Patient")
	g.raw(`,`)
	g.ref("encounter", "Encounter")
	g.raw(`,"effectiveDateTime":"` + g.dateTime() + `"`)
	if g.p(15) {
		g.primitive("effectiveDateTime")
	}
	g.raw(`,"issued":"` + g.dateTime() + `","performer":[{"reference":"Practitioner/` + g.id() + `"}]`)
	if bp {
		g.raw(`,"component":[`)
		for i, c := range []vital{{"8480-6", "Systolic blood pressure", "mmHg", "mm[Hg]"}, {"8462-4", "Diastolic blood pressure", "mmHg", "mm[Hg]"}} {
			if i > 0 {
				g.raw(`,`)
			}
			g.raw(`{`)
			if g.p(20) {
				g.extensions("extension", 1)
				g.raw(`,`)
			}
			g.concept("code", "http://loinc.org", c.code, c.display)
			g.raw(`,`)
			g.quantity("valueQuantity", c.unit, c.ucum)
			g.raw(`,"interpretation":[{"coding":[`)
			g.coding("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", g.pick("N", "H", "L"), g.pick("normal", "High", "Low"))
			g.raw(`]}]}`)
		}
		g.raw(`]`)
	} else {
		g.raw(`,`)
		g.quantity("valueQuantity", v.unit, v.ucum)
		g.raw(`,"interpretation":[{"coding":[`)
		g.coding("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", g.pick("N", "H", "L", "A"), "")
		g.raw(`]}],"referenceRange":[{`)
		g.quantity("low", v.unit, v.ucum)
		g.raw(`,`)
		g.quantity("high", v.unit, v.ucum)
		g.raw(`,"text":"` + g.pick("normal", "&lt; 100", "adult \\u2265 18y") + `"}]`)
	}
	if g.p(30) {
		g.raw(`,"note":[{"authorString":"` + g.pick(givens...) + `","time":"` + g.dateTime() + `","text":"` + g.pick(notes...) + `"}]`)
	}
}

func (g *gen) encounter(string) {
	if g.p(50) {
		g.narrative("Encounter")
	}
	g.identifier()
	g.raw(`"status":"` + g.pick("finished", "in-progress", "planned", "arrived") + `","class":`)
	g.coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", g.pick("AMB", "IMP", "EMER"), g.pick("ambulatory", "inpatient encounter", "emergency"))
	g.raw(`,"type":[{"coding":[`)
	g.coding("http://snomed.info/sct", g.pick("185349003", "270427003", "390906007"), g.pick("Encounter for check up", "Patient-initiated encounter", "Follow-up encounter"))
	g.raw(`]}],`)
	g.ref("subject", "Patient")
	g.raw(`,"participant":[{"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"PPRF","display":"primary performer"}]}],"period":{"start":"` + g.dateTime() + `"},`)
	g.ref("individual", "Practitioner")
	g.raw(`}],"period":{"start":"` + g.dateTime() + `","end":"` + g.dateTime() + `"},"length":{"value":` + g.decimal() + `,"unit":"min","system":"http://unitsofmeasure.org","code":"min"},"reasonCode":[{"coding":[`)
	g.coding("http://snomed.info/sct", strconv.Itoa(10000000+g.rng.IntN(80000000)), g.pick("Hypertension", "Acute bronchitis (disorder)", "Chest pain \\u2014 atypical"))
	g.raw(`]}],"hospitalization":{"admitSource":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/admit-source","code":"gp"}]},"dischargeDisposition":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/discharge-disposition","code":"home"}]}},"location":[{`)
	g.ref("location", "Location")
	g.raw(`,"status":"completed"}],`)
	g.ref("serviceProvider", "Organization")
}

func (g *gen) condition(string) {
	if g.p(50) {
		g.narrative("Condition")
	}
	g.concept("clinicalStatus", "http://terminology.hl7.org/CodeSystem/condition-clinical", g.pick("active", "resolved", "remission"), "")
	g.raw(`,`)
	g.concept("verificationStatus", "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed")
	g.raw(`,"category":[{"coding":[`)
	g.coding("http://terminology.hl7.org/CodeSystem/condition-category", g.pick("problem-list-item", "encounter-diagnosis"), "")
	g.raw(`]}],`)
	g.concept("severity", "http://snomed.info/sct", g.pick("24484000", "6736007", "255604002"), g.pick("Severe", "Moderate", "Mild"))
	g.raw(`,`)
	g.concept("code", "http://snomed.info/sct", strconv.Itoa(10000000+g.rng.IntN(80000000)), g.pick("Diabetes mellitus type 2", "Essential hypertension", "Asthma", "Sj\u00f6gren's syndrome", "Morbus Cr\\u00f6hn"))
	g.raw(`,`)
	g.ref("subject", "Patient")
	g.raw(`,`)
	g.ref("encounter", "Encounter")
	g.raw(`,"onsetDateTime":"` + g.dateTime() + `","recordedDate":"` + g.date() + `"`)
	if g.p(20) {
		g.primitive("recordedDate")
	}
	g.raw(`,`)
	g.ref("recorder", "Practitioner")
	if g.p(40) {
		g.raw(`,"note":[{"text":"` + g.pick(notes...) + `"}]`)
	}
	if g.p(25) {
		g.raw(`,"onsetAge":{"value":` + g.decimal() + `,"unit":"a","system":"http://unitsofmeasure.org","code":"a"}`)
	}
}

func (g *gen) medicationRequest(string) {
	contained := g.p(40)
	if contained {
		g.raw(`"contained":[{"resourceType":"Medication","id":"med1","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"` + strconv.Itoa(100000+g.rng.IntN(900000)) + `","display":"Amoxicillin 250 MG \\/ Clavulanate 125 MG Oral Tablet"}]},"form":{"text":"tablet"},"ingredient":[{"itemCodeableConcept":{"text":"amoxicillin"},"strength":{"numerator":{"value":250,"unit":"mg"},"denominator":{"value":1,"unit":"tablet"}}}]}],`)
	}
	if g.p(40) {
		g.narrative("MedicationRequest")
	}
	g.identifier()
	g.raw(`"status":"` + g.pick("active", "completed", "stopped") + `","intent":"order","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/medicationrequest-category","code":"outpatient"}]}],"priority":"` + g.pick("routine", "urgent", "asap") + `",`)
	if contained {
		g.raw(`"medicationReference":{"reference":"#med1"},`)
	} else {
		g.concept("medicationCodeableConcept", "http://www.nlm.nih.gov/research/umls/rxnorm", strconv.Itoa(100000+g.rng.IntN(900000)), g.pick("Lisinopril 10 MG Oral Tablet", "Metformin hydrochloride 500 MG", "Ibuprofen 400 MG \\u00b7 film-coated"))
		g.raw(`,`)
	}
	g.ref("subject", "Patient")
	g.raw(`,`)
	g.ref("encounter", "Encounter")
	g.raw(`,"authoredOn":"` + g.dateTime() + `",`)
	g.ref("requester", "Practitioner")
	g.raw(`,"reasonCode":[{"coding":[`)
	g.coding("http://snomed.info/sct", strconv.Itoa(10000000+g.rng.IntN(80000000)), "")
	g.raw(`]}],"dosageInstruction":[`)
	for i := range 1 + g.rng.IntN(2) {
		if i > 0 {
			g.raw(`,`)
		}
		g.raw(`{"sequence":` + strconv.Itoa(i+1) + `,"text":"` + g.pick("Take 1 tablet by mouth once daily", "1\\u20132 tabs q6h prn pain", "500 mg twice a day with food") + `","timing":{"repeat":{"frequency":` + strconv.Itoa(1+g.rng.IntN(3)) + `,"period":` + g.pick("1", "1.0", "12", "0.5") + `,"periodUnit":"` + g.pick("d", "h", "wk") + `"}},"asNeededBoolean":` + g.pick("false", "true") + `,"route":{"coding":[{"system":"http://snomed.info/sct","code":"26643006","display":"Oral route"}]},"doseAndRate":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/dose-rate-type","code":"ordered"}]},`)
		g.quantity("doseQuantity", "mg", "mg")
		g.raw(`}]}`)
	}
	g.raw(`],"dispenseRequest":{"validityPeriod":{"start":"` + g.date() + `","end":"` + g.date() + `"},"numberOfRepeatsAllowed":` + strconv.Itoa(g.rng.IntN(6)) + `,`)
	g.quantity("quantity", "tablet", "TAB")
	g.raw(`,"expectedSupplyDuration":{"value":` + g.pick("30", "90", "14.0") + `,"unit":"days","system":"http://unitsofmeasure.org","code":"d"}},"substitution":{"allowedBoolean":true}`)
}

func (g *gen) practitioner(string) {
	if g.p(50) {
		g.narrative("Practitioner")
	}
	g.identifier()
	g.raw(`"active":true,"name":[`)
	g.name()
	g.raw(`],"telecom":[{"system":"email","value":"dr` + strconv.Itoa(g.rng.IntN(999)) + `@example.org","use":"work"}],"qualification":[{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0360|2.7","code":"MD","display":"Doctor of Medicine"}],"text":"MD"}}]`)
}

func (g *gen) organization(string) {
	g.identifier()
	g.raw(`"active":true,"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/organization-type","code":"prov","display":"Healthcare Provider"}]}],"name":"` + g.pick("Acme Healthcare", "Klinikum M\\u00fcnchen rechts der Isar", "St. Mary\u2019s Hospital") + `","telecom":[{"system":"phone","value":"+1 555 0100"}],"address":[{"line":["1 Main St"],"city":"Springfield","postalCode":"01101","country":"US"}]`)
}

func (g *gen) procedure(string) {
	g.raw(`"status":"completed",`)
	g.concept("code", "http://snomed.info/sct", strconv.Itoa(10000000+g.rng.IntN(80000000)), g.pick("Appendectomy", "Colonoscopy", "Excision of l\\u00e9sion"))
	g.raw(`,`)
	g.ref("subject", "Patient")
	g.raw(`,"performedPeriod":{"start":"` + g.dateTime() + `","end":"` + g.dateTime() + `"},"performer":[{`)
	g.ref("actor", "Practitioner")
	g.raw(`}]`)
}

func (g *gen) allergy(string) {
	g.concept("clinicalStatus", "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active")
	g.raw(`,"type":"allergy","category":["` + g.pick("food", "medication", "environment") + `"],"criticality":"` + g.pick("low", "high") + `",`)
	g.concept("code", "http://snomed.info/sct", strconv.Itoa(10000000+g.rng.IntN(80000000)), g.pick("Peanut", "Penicillin", "Latex", "Cashew nuts"))
	g.raw(`,`)
	g.ref("patient", "Patient")
	g.raw(`,"recordedDate":"` + g.dateTime() + `","reaction":[{"manifestation":[{"coding":[{"system":"http://snomed.info/sct","code":"39579001","display":"Anaphylactic reaction"}]}],"severity":"` + g.pick("mild", "moderate", "severe") + `"}]`)
}

func (g *gen) diagnosticReport(string) {
	if g.p(60) {
		g.narrative("DiagnosticReport")
	}
	g.raw(`"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"LAB"}]}],`)
	g.concept("code", "http://loinc.org", "58410-2", "CBC panel - Blood by Automated count")
	g.raw(`,`)
	g.ref("subject", "Patient")
	g.raw(`,"effectiveDateTime":"` + g.dateTime() + `","issued":"` + g.dateTime() + `","result":[`)
	for i := range 2 + g.rng.IntN(4) {
		if i > 0 {
			g.raw(`,`)
		}
		g.raw(`{"reference":"Observation/` + g.id() + `"}`)
	}
	g.raw(`],"conclusion":"` + g.pick(notes...) + `"`)
}
