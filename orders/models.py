# Care orders arrive with the care-order issue; the app exists so the layout is whole.
