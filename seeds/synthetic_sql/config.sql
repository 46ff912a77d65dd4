-- Plan configuration and drug catalog of `pbm seed synthetic`, from the staging tables (staging.sql).
-- Written in both modes (database and --out files): the feed files refer to these codes.

INSERT INTO drug.mac_lists (mac_list_code, name)
SELECT
    s.mac_list_code,
    s.name
FROM _syn_mac_lists AS s
ORDER BY s.ord;

INSERT INTO network.contracts (
    contract_code, name, ingredient_basis, brand_awp_discount, generic_awp_discount, brand_dispensing_fee,
    generic_dispensing_fee, mac_list_id
)
SELECT
    s.contract_code,
    s.name,
    s.ingredient_basis,
    s.brand_awp_discount,
    s.generic_awp_discount,
    s.brand_dispensing_fee,
    s.generic_dispensing_fee,
    m.mac_list_id
FROM _syn_contracts AS s
LEFT JOIN drug.mac_lists AS m ON s.mac_list_code = m.mac_list_code
ORDER BY s.ord;

INSERT INTO network.networks (network_code, name)
SELECT
    s.network_code,
    s.name
FROM _syn_networks AS s
ORDER BY s.ord;

INSERT INTO plan.formularies (formulary_code, name)
SELECT
    s.formulary_code,
    s.name
FROM _syn_formularies AS s
ORDER BY s.ord;

INSERT INTO drug.drugs (
    ndc11, ndc_package_code, drug_name, generic_name, strength, dosage_form, route, multi_source_code,
    therapeutic_class, drug_group, dea_schedule, is_insulin, is_vaccine, is_specialty, unit_of_measure,
    package_size, market_end_date
)
SELECT
    s.ndc11,
    s.ndc_package_code,
    s.drug_name,
    s.generic_name,
    s.strength,
    s.dosage_form,
    s.route,
    s.multi_source_code,
    s.therapeutic_class,
    s.drug_group,
    s.dea_schedule,
    s.is_insulin,
    s.is_vaccine,
    s.is_specialty,
    s.unit_of_measure,
    s.package_size,
    s.market_end_date
FROM _syn_drugs AS s
ORDER BY s.ord;

INSERT INTO plan.formulary_entries (
    formulary_id, ndc11, tier, is_excluded, pa_required, ql_quantity, ql_days, step_therapy_class, min_age,
    max_age, gender, effective_date
)
SELECT
    f.formulary_id,
    s.ndc11,
    s.tier,
    s.is_excluded,
    s.pa_required,
    s.ql_quantity,
    s.ql_days,
    s.step_therapy_class,
    s.min_age,
    s.max_age,
    s.gender,
    s.effective_date
FROM _syn_formulary_entries AS s
INNER JOIN plan.formularies AS f ON s.formulary_code = f.formulary_code
ORDER BY s.ord;

INSERT INTO plan.plans (plan_code, name, plan_type, bin, pcn, group_id, contract_number, pbp_id, network_id)
SELECT
    s.plan_code,
    s.name,
    s.plan_type,
    s.bin,
    s.pcn,
    s.group_id,
    s.contract_number,
    s.pbp_id,
    n.network_id
FROM _syn_plans AS s
INNER JOIN network.networks AS n ON s.network_code = n.network_code
ORDER BY s.ord;

INSERT INTO plan.benefit_designs (
    plan_id, plan_year, formulary_id, deductible, deductible_tiers, oop_max, insulin_cap_per_month,
    insulin_deductible_exempt, acip_vaccines_zero, brand_penalty_daw, brand_penalty_counts_to_oop, rts_threshold,
    rts_lookback_days, max_days_supply
)
SELECT
    p.plan_id,
    s.plan_year,
    f.formulary_id,
    s.deductible,
    s.deductible_tiers,
    s.oop_max,
    s.insulin_cap_per_month,
    s.insulin_deductible_exempt,
    s.acip_vaccines_zero,
    s.brand_penalty_daw,
    s.brand_penalty_counts_to_oop,
    s.rts_threshold,
    s.rts_lookback_days,
    s.max_days_supply
FROM _syn_benefit_designs AS s
INNER JOIN plan.plans AS p ON s.plan_code = p.plan_code
INNER JOIN plan.formularies AS f ON s.formulary_code = f.formulary_code
ORDER BY s.ord;

INSERT INTO plan.tier_cost_shares (
    benefit_design_id, tier, cost_share_type, copay_amount, coinsurance_rate, min_amount, max_amount
)
SELECT
    d.benefit_design_id,
    s.tier,
    s.cost_share_type,
    s.copay_amount,
    s.coinsurance_rate,
    s.min_amount,
    s.max_amount
FROM _syn_tier_cost_shares AS s
INNER JOIN plan.plans AS p ON s.plan_code = p.plan_code
INNER JOIN plan.benefit_designs AS d ON p.plan_id = d.plan_id AND s.plan_year = d.plan_year
ORDER BY s.ord;
